import { memo, useState } from "react";
import { formatMessageTime, formatServedBy } from "../lib/format";
import { effectiveState, isOverdue } from "../lib/status";
import type { ReportReason } from "../lib/sharing";
import type { ChatMessage, Emotion } from "../lib/types";
import { EmotionBadge, EmotionBars } from "./EmotionView";
import { FeedbackControl } from "./FeedbackControl";
import { RetryIcon } from "./icons";
import { ShareControl } from "./ShareControl";
import { SimilarThoughts } from "./SimilarThoughts";

interface Props {
  message: ChatMessage;
  now: number;
  timeoutMs: number;
  onResend: (m: ChatMessage) => Promise<void>;
  /** Put the message's text back in the composer (its text was refused: sending it again cannot work). */
  onEdit: (m: ChatMessage) => void;
  onFeedback: (m: ChatMessage, label: Emotion) => Promise<void>;
  onShare: (m: ChatMessage, share: boolean) => Promise<void>;
  onReport: (thoughtId: string, reason: ReportReason) => Promise<void>;
  /** The browser is online: offline, a waiting message says why it waits, not "taking longer". */
  online: boolean;
}

function ResendButton({ message, onResend }: Pick<Props, "message" | "onResend">) {
  const [state, setState] = useState<"idle" | "busy" | "sent" | "failed">("idle");
  const click = async () => {
    setState("busy");
    try {
      await onResend(message);
      setState("sent");
    } catch {
      setState("failed");
    }
  };
  if (state === "sent") return <span className="muted small">Sent again ↓</span>;
  return (
    <button type="button" className="btn btn-small btn-secondary" data-testid="resend" onClick={() => void click()} disabled={state === "busy"}>
      <RetryIcon /> {state === "failed" ? "Resend failed, try again" : "Resend"}
    </button>
  );
}

export const MessageItem = memo(function MessageItem({
  message,
  now,
  timeoutMs,
  onResend,
  onEdit,
  onFeedback,
  onShare,
  onReport,
  online,
}: Props) {
  const state = effectiveState(message);
  const overdue = isOverdue(message, now, timeoutMs, message.firstSeenMs ?? null);
  const time = formatMessageTime(message.pendingWrite && message.createdAtMs == null ? null : message.createdAtMs);

  return (
    <li className={`msg state-${state}${overdue ? " is-overdue" : ""}`} data-testid="message" data-state={state} data-message-id={message.id}>
      <div className="msg-user">
        <div className="bubble bubble-user">
          <p className="msg-text" data-testid="message-text">
            {message.text}
          </p>
        </div>
        <div className="msg-meta">
          {message.pendingWrite ? (online ? "sending…" : "waiting for the connection") : time}
          <span aria-hidden="true"> · </span>
          <span className="msg-model">{message.model}</span>
        </div>
        {!message.pendingWrite && <ShareControl message={message} onChange={(share) => onShare(message, share)} />}
      </div>

      <div className="msg-bot" aria-live="polite">
        <div className="avatar" aria-hidden="true">m</div>
        <div className="bubble bubble-bot">
          {(state === "pending" || state === "processing") &&
            (!online ? (
              <div className="slow" role="status" data-testid="typing" data-offline="true">
                <span className="status-icon" aria-hidden="true">!</span>
                <p>
                  {message.pendingWrite
                    ? "You are offline. This message will be sent when the connection is back."
                    : "You are offline. The answer will show when the connection is back."}
                </p>
              </div>
            ) : overdue ? (
              <div className="slow" role="status" data-testid="typing" data-overdue="true">
                <span className="status-icon" aria-hidden="true">!</span>
                <p>This is taking longer than usual…</p>
                <ResendButton message={message} onResend={onResend} />
              </div>
            ) : (
              <div className="typing" role="status" data-testid="typing" data-overdue="false">
                <span className="typing-dots" aria-hidden="true">
                  <span />
                  <span />
                  <span />
                </span>
                <span className="typing-text">machbot is thinking…</span>
              </div>
            ))}

          {state === "done" && (
            <>
              <p className="reply" data-testid="reply">
                {message.reply?.text ?? ""}
              </p>
              {message.emotion && (
                <div className="emotion">
                  <div className="emotion-head">
                    <EmotionBadge emotion={message.emotion} />
                    <FeedbackControl message={message} onSubmit={(label) => onFeedback(message, label)} />
                  </div>
                  <EmotionBars emotion={message.emotion} />
                </div>
              )}
              {/* Mounted whenever the message is answered: a thought taken off after a report (hidden by it,
                  say) must not take the reporter's thank-you with it. */}
              <SimilarThoughts thoughts={message.similar ?? []} onReport={onReport} />
              <p className="served-by" data-testid="served-by">
                {formatServedBy(message)}
              </p>
            </>
          )}

          {state === "error" && (
            <div className="msg-error" role="alert">
              <span className="status-icon" aria-hidden="true">!</span>
              <p data-testid="message-error">
                {message.error?.message || message.error?.code || "The message could not be answered."}
              </p>
              {message.error?.code === "invalid_text" ? (
                <button type="button" className="btn btn-small btn-secondary" data-testid="edit-text" onClick={() => onEdit(message)}>
                  Edit and send again
                </button>
              ) : (
                <ResendButton message={message} onResend={onResend} />
              )}
            </div>
          )}
        </div>
      </div>
    </li>
  );
});
