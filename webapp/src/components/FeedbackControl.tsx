import { useId, useState } from "react";
import { capitalize } from "../lib/format";
import { EMOTIONS, isEmotion, type ChatMessage, type Emotion } from "../lib/types";

interface Props {
  message: ChatMessage;
  onSubmit: (label: Emotion) => Promise<void>;
}

/** "Wrong emotion?": pick the right label and confirm; afterwards "Reported as <label>". */
export function FeedbackControl({ message, onSubmit }: Props) {
  const [open, setOpen] = useState(false);
  const [choice, setChoice] = useState<string>("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const selectId = useId();

  if (message.feedback) {
    return (
      <span className="feedback-reported" data-testid="feedback-reported" role="status">
        Reported as {message.feedback.label}
      </span>
    );
  }

  if (!open) {
    return (
      <button type="button" className="btn-link" data-testid="wrong-emotion" onClick={() => setOpen(true)}>
        Wrong emotion?
      </button>
    );
  }

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!isEmotion(choice) || busy) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(choice);
      setOpen(false);
    } catch (err) {
      setError(err instanceof Error ? err.message : "Could not save the report.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="feedback-form" onSubmit={submit} aria-label="Report the right emotion">
      <label htmlFor={selectId}>The right emotion is</label>
      <select
        id={selectId}
        data-testid="feedback-select"
        value={choice}
        onChange={(e) => setChoice(e.target.value)}
        autoFocus
      >
        <option value="" disabled>
          choose…
        </option>
        {EMOTIONS.map((label) => (
          <option key={label} value={label}>
            {capitalize(label)}
            {label === message.emotion?.label ? " (detected)" : ""}
          </option>
        ))}
      </select>
      <button type="submit" className="btn btn-small btn-primary" data-testid="feedback-submit" disabled={!isEmotion(choice) || busy}>
        {busy ? "Reporting…" : "Report"}
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={() => setOpen(false)} disabled={busy}>
        Cancel
      </button>
      {error && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
