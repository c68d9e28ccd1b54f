import { useId, useState } from "react";

interface Props {
  /** The form's accessible name, e.g. "Report the right emotion". */
  name: string;
  /** The text before the select, e.g. "The right emotion is". */
  label: string;
  options: readonly { value: string; label: string }[];
  /** The choice the form opens with ("" for none). */
  initial?: string;
  isValid: (value: string) => boolean;
  onSubmit: (value: string) => Promise<void>;
  onCancel: () => void;
  /** Said when onSubmit fails without a message of its own. */
  failure: string;
  testIds: { select: string; submit: string };
}

/** An inline "pick one, then Report / Cancel" form: the wrong-emotion report and the report on a shared thought.
 * Escape cancels, as Cancel does. */
export function ChoiceForm({ name, label, options, initial = "", isValid, onSubmit, onCancel, failure, testIds }: Props) {
  const [choice, setChoice] = useState<string>(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const selectId = useId();

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!isValid(choice) || busy) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(choice);
    } catch (err) {
      setError(err instanceof Error ? err.message : failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="feedback-form"
      onSubmit={(e) => void submit(e)}
      aria-label={name}
      onKeyDown={(e) => {
        if (e.key !== "Escape" || busy) return;
        e.preventDefault();
        e.stopPropagation(); // the drawer also closes on Escape: this one is for the form
        onCancel();
      }}
    >
      <label htmlFor={selectId}>{label}</label>
      <select id={selectId} data-testid={testIds.select} value={choice} onChange={(e) => setChoice(e.target.value)} autoFocus>
        <option value="" disabled>
          choose…
        </option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <button type="submit" className="btn btn-small btn-primary" data-testid={testIds.submit} disabled={!isValid(choice) || busy}>
        {busy ? "Reporting…" : "Report"}
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={onCancel} disabled={busy}>
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
