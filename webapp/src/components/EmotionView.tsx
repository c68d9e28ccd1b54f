import { emotionBars, formatEmotionBadge } from "../lib/format";
import type { EmotionResult } from "../lib/types";

export function EmotionBadge({ emotion }: { emotion: EmotionResult }) {
  const text = formatEmotionBadge(emotion);
  return (
    <span className="badge-wrap">
      <span className="sr-only">{emotion.unsure ? "Emotion: " : "Detected emotion: "}</span>
      <span
        className={`badge emo-${emotion.unsure ? "unsure" : emotion.label}`}
        data-testid="emotion-badge"
        data-label={emotion.label}
        data-unsure={emotion.unsure ? "true" : undefined}
        title={`Detected emotion: ${text}`}
      >
        <span className="badge-dot" aria-hidden="true" />
        {text}
      </span>
    </span>
  );
}

/** The six probabilities as labelled horizontal bars (pure CSS). */
export function EmotionBars({ emotion }: { emotion: EmotionResult }) {
  const bars = emotionBars(emotion);
  return (
    <figure className="bars" data-testid="emotion-bars">
      <figcaption className="sr-only">Emotion probabilities</figcaption>
      <ul>
        {bars.map((b) => (
          <li
            key={b.label}
            className={`bar emo-${b.label}${b.isTop ? " is-top" : ""}`}
            data-testid={`emotion-bar-${b.label}`}
            data-value={b.value.toFixed(4)}
          >
            <span className="bar-label">{b.label}</span>{" "}
            <span className="bar-track" aria-hidden="true">
              <span className="bar-fill" style={{ width: `${(b.value * 100).toFixed(1)}%` }} />
            </span>{" "}
            <span className="bar-value">{b.percent}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
