import { useState } from "react";
import { capitalize } from "../lib/format";
import { EMOTIONS, isEmotion, type ChatMessage, type Emotion } from "../lib/types";
import { ChoiceForm } from "./ChoiceForm";

interface Props {
  message: ChatMessage;
  onSubmit: (label: Emotion) => Promise<void>;
}

/** The labels a report may name: every emotion but the one machbot detected (that would not be a correction). */
export function correctionOptions(detected: string | null | undefined): { value: Emotion; label: string }[] {
  return EMOTIONS.filter((label) => label !== detected).map((label) => ({ value: label, label: capitalize(label) }));
}

/** "Wrong emotion?": pick the right label and confirm; afterwards "Reported as <label>", which can be changed. */
export function FeedbackControl({ message, onSubmit }: Props) {
  const [open, setOpen] = useState(false);
  const reported = message.feedback?.label ?? null;

  if (!open) {
    if (reported) {
      return (
        <span className="feedback-reported" role="status">
          <span data-testid="feedback-reported">Reported as {reported}</span>{" "}
          <button type="button" className="btn-link" data-testid="feedback-change" onClick={() => setOpen(true)}>
            Change
          </button>
        </span>
      );
    }
    return (
      <button type="button" className="btn-link" data-testid="wrong-emotion" onClick={() => setOpen(true)}>
        Wrong emotion?
      </button>
    );
  }

  return (
    <ChoiceForm
      name="Report the right emotion"
      label={message.emotion ? `Not ${message.emotion.label}; the right emotion is` : "The right emotion is"}
      options={correctionOptions(message.emotion?.label)}
      initial={reported ?? ""}
      isValid={(v) => isEmotion(v) && v !== reported}
      onSubmit={async (label) => {
        if (!isEmotion(label)) return;
        await onSubmit(label);
        setOpen(false);
      }}
      onCancel={() => setOpen(false)}
      failure="Could not save the report."
      testIds={{ select: "feedback-select", submit: "feedback-submit" }}
    />
  );
}
