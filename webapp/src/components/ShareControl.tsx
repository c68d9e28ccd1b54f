import { useState } from "react";
import { shareState, shareStatusText, shareSwitch } from "../lib/sharing";
import type { ChatMessage } from "../lib/types";

interface Props {
  message: ChatMessage;
  onChange: (share: boolean) => Promise<void>;
}

/** "Share anonymously" on one's own message: on or off at any time; the status says where it stands. */
export function ShareControl({ message, onChange }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const state = shareState(message);
  const { on, enabled } = shareSwitch(state);

  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      await onChange(!on);
    } catch (e) {
      setError(e instanceof Error ? e.message : "Could not change sharing.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="share-control" data-testid="share-control" data-share-state={state}>
      <label className="share-switch" title="Let people with a similar thought read this text; never who wrote it">
        <input
          type="checkbox"
          role="switch"
          data-testid="share-toggle"
          checked={on}
          disabled={!enabled || busy || message.pendingWrite}
          onChange={() => void toggle()}
        />
        <span>Share anonymously</span>
      </label>
      {state !== "off" && (
        <span className="share-status" data-testid="share-status" role="status">
          {shareStatusText(state)}
        </span>
      )}
      {error && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
