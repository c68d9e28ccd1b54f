import { useState } from "react";
import { capitalize } from "../lib/format";
import { EMOTIONS, isEmotion, type ChatMessage, type Emotion } from "../lib/types";
import { ChoiceForm } from "./ChoiceForm";

interface Props {
  message: ChatMessage;
  onSubmit: (label: Emotion) => Promise<void>;
}

/** "Wrong emotion?": pick the right label and confirm; afterwards "Reported as <label>". */
export function FeedbackControl({ message, onSubmit }: Props) {
  const [open, setOpen] = useState(false);

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

  const options = EMOTIONS.map((label) => ({
    value: label,
    label: `${capitalize(label)}${label === message.emotion?.label ? " (detected)" : ""}`,
  }));
  return (
    <ChoiceForm
      name="Report the right emotion"
      label="The right emotion is"
      options={options}
      isValid={isEmotion}
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
