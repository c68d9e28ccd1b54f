import { forwardRef, useImperativeHandle, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { formatCounter, isSendKey, validateMessage } from "../lib/validation";
import { SendIcon } from "./icons";

export interface ComposerHandle {
  focus: () => void;
  setText: (text: string) => void;
}

export interface SendOptions {
  /** Share an anonymised copy once answered (off unless the user turns it on, for this message only). */
  share: boolean;
}

interface Props {
  onSend: (text: string, options: SendOptions) => Promise<void>;
  /** The conversation being written to: each keeps its own draft (text and share choice). */
  draftKey: string | null;
  disabled?: boolean;
  /** Rendered above the text box (the model picker). */
  toolbar?: ReactNode;
}

const MAX_HEIGHT_PX = 200;

interface Draft {
  text: string;
  share: boolean;
}

const EMPTY_DRAFT: Draft = { text: "", share: false };

/** The message box: validation mirroring the rules, a live counter, Enter sends, Shift+Enter adds a line.
 * A draft belongs to its conversation: switching conversations shows that conversation's draft. */
export const Composer = forwardRef<ComposerHandle, Props>(function Composer({ onSend, draftKey, disabled, toolbar }, ref) {
  const [drafts, setDrafts] = useState<ReadonlyMap<string, Draft>>(new Map());
  const [sendError, setSendError] = useState<{ key: string | null; message: string } | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const { text, share } = (draftKey !== null && drafts.get(draftKey)) || EMPTY_DRAFT;

  /** Change the draft of conversation `key` (by default the one on screen). */
  const update = (change: Partial<Draft> | ((d: Draft) => Partial<Draft>), key: string | null = draftKey) => {
    if (key === null) return;
    setDrafts((all) => {
      const before = all.get(key) ?? EMPTY_DRAFT;
      const after = { ...before, ...(typeof change === "function" ? change(before) : change) };
      const next = new Map(all);
      if (after.text === "" && !after.share) next.delete(key);
      else next.set(key, after);
      return next;
    });
  };
  const setText = (t: string) => update({ text: t });
  const v = validateMessage(text);
  const canSend = v.ok && !disabled;

  useImperativeHandle(ref, () => ({
    focus: () => area.current?.focus(),
    setText: (t: string) => {
      setText(t);
      area.current?.focus();
    },
  }));
  const shownError = sendError && sendError.key === draftKey ? sendError.message : null;

  // Grow with the content up to a maximum height.
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [text]);

  const send = () => {
    if (!canSend) return;
    const toSend = v.text;
    const shared = share;
    const key = draftKey;
    update({ text: "", share: false }); // sharing is chosen message by message
    setSendError(null);
    onSend(toSend, { share: shared }).catch((e: unknown) => {
      // Give the text (and the choice to share it) back to its conversation so nothing is lost.
      update((d) => (d.text === "" ? { text: toSend, share: shared } : {}), key);
      setSendError({ key, message: e instanceof Error ? e.message : "The message could not be sent." });
    });
  };

  const tooLong = v.problem === "too-long" || v.problem === "invalid-characters";

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
      aria-label="Write a message"
    >
      {toolbar}
      <div className={`composer-box${tooLong ? " is-invalid" : ""}`}>
        <label htmlFor="composer-input" className="sr-only">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={area}
          data-testid="composer"
          rows={1}
          value={text}
          placeholder="Tell machbot how you feel…"
          aria-invalid={tooLong}
          aria-describedby="composer-status composer-counter composer-help"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key !== "Enter" || e.shiftKey) return;
            if (!isSendKey({ key: e.key, shiftKey: e.shiftKey, isComposing: e.nativeEvent.isComposing, keyCode: e.keyCode })) return;
            e.preventDefault();
            send();
          }}
        />
        <button type="submit" className="send" data-testid="send" disabled={!canSend} aria-label="Send message">
          <SendIcon />
          <span className="send-text">Send</span>
        </button>
      </div>
      <div className="composer-footer">
        <span id="composer-status" className="composer-status">
          {v.message && (
            <span
              className={`composer-error${tooLong ? " is-error" : ""}`}
              data-testid="composer-error"
              role={tooLong ? "alert" : undefined}
            >
              {v.message}
            </span>
          )}
          {shownError && (
            <span className="composer-error is-error" data-testid="send-error" role="alert">
              Not sent: {shownError}
            </span>
          )}
        </span>
        <label className="share-switch composer-share" title="Let people with a similar thought read this text; never who wrote it">
          <input type="checkbox" role="switch" data-testid="composer-share" checked={share} onChange={(e) => update({ share: e.target.checked })} />
          <span>Share anonymously</span>
        </label>
        <span id="composer-help" className="composer-help">
          Enter to send · Shift+Enter for a new line
        </span>
        <span id="composer-counter" className={`counter${tooLong ? " is-error" : ""}`} data-testid="counter">
          {formatCounter(v.length)}
        </span>
      </div>
    </form>
  );
});
