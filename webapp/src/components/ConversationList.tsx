import { formatRelative } from "../lib/format";
import type { Conversation } from "../lib/conversations";
import { ChatIcon } from "./icons";

interface Props {
  conversations: Conversation[];
  selectedId: string | null;
  draftId: string | null;
  now: number;
  /** Every message is loaded: counts are exact and there are no older conversations to show. */
  complete: boolean;
  onSelect: (id: string) => void;
  onMore: () => void;
}

export function ConversationList({ conversations, selectedId, draftId, now, complete, onSelect, onMore }: Props) {
  const showDraft = draftId !== null && !conversations.some((c) => c.id === draftId);
  return (
    <ul className="conv-list" data-testid="conversation-list">
      {showDraft && (
        <li>
          <button
            type="button"
            className="conv is-draft"
            aria-current={selectedId === draftId ? "true" : undefined}
            data-testid="conversation"
            data-conversation-id={draftId}
            onClick={() => onSelect(draftId)}
          >
            <ChatIcon />
            <span className="conv-body">
              <span className="conv-title">New conversation</span>
              <span className="conv-sub">No messages yet</span>
            </span>
          </button>
        </li>
      )}
      {conversations.map((c) => (
        <li key={c.id}>
          <button
            type="button"
            className="conv"
            aria-current={selectedId === c.id ? "true" : undefined}
            data-testid="conversation"
            data-conversation-id={c.id}
            onClick={() => onSelect(c.id)}
            title={c.title}
          >
            <ChatIcon />
            <span className="conv-body">
              <span className="conv-title">{c.title}</span>
              <span className="conv-sub">
                {formatRelative(c.lastActivityMs, now)}
                {complete && ` · ${c.messages.length} ${c.messages.length === 1 ? "message" : "messages"}`}
              </span>
            </span>
          </button>
        </li>
      ))}
      {!showDraft && conversations.length === 0 && <li className="conv-empty">No conversations yet.</li>}
      {!complete && (
        <li className="older">
          <button type="button" className="btn btn-small btn-ghost" data-testid="older-conversations" onClick={onMore}>
            Show older conversations
          </button>
        </li>
      )}
    </ul>
  );
}
