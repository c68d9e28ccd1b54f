import type { ChatMessage } from "./types";

/** Key of the group holding messages written without a conversationId (e.g. by a mobile client). */
export const UNGROUPED = "__ungrouped__";

export const TITLE_MAX = 60;

/** Messages read at a time for the conversation list (the most recent ones) and for an open
 * conversation (its newest, then older ones on request): what a screen needs, not the whole history. */
export const CONVERSATIONS_PAGE = 50;
export const MESSAGES_PAGE = 30;

export interface Conversation {
  /** The conversationId, or UNGROUPED. */
  id: string;
  title: string;
  messages: ChatMessage[];
  /** Time of the first and last message; pending (not yet stamped) messages count as `now`. */
  startedAtMs: number;
  lastActivityMs: number;
}

export function conversationKey(m: Pick<ChatMessage, "conversationId">): string {
  return m.conversationId ?? UNGROUPED;
}

/** A one-line title from a message text: whitespace collapsed, cut at a word boundary near `max`. */
export function titleFromText(text: string, max: number = TITLE_MAX): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (line.length === 0) return "Untitled conversation";
  if (line.length <= max) return line;
  let cut = line.slice(0, max);
  // Do not split a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  // Back off to the last word boundary unless the cut already ends a word.
  if (line[max] !== " ") {
    const space = cut.lastIndexOf(" ");
    if (space >= max * 0.6) cut = cut.slice(0, space);
  }
  return `${cut.trimEnd()}…`;
}

/**
 * Messages in display order: by server time; messages still waiting for their server timestamp
 * (createdAt null locally) go last, keeping their relative (snapshot) order.
 */
export function sortMessages(messages: readonly ChatMessage[]): ChatMessage[] {
  return messages
    .map((m, i) => ({ m, i }))
    .sort((a, b) => {
      const ta = a.m.createdAtMs ?? Number.POSITIVE_INFINITY;
      const tb = b.m.createdAtMs ?? Number.POSITIVE_INFINITY;
      if (ta !== tb) return ta < tb ? -1 : 1;
      return a.i - b.i;
    })
    .map(({ m }) => m);
}

/** Group messages into conversations, newest activity first, each titled by its first message. */
export function groupConversations(messages: readonly ChatMessage[], nowMs: number = Date.now()): Conversation[] {
  const groups = new Map<string, ChatMessage[]>();
  for (const m of sortMessages(messages)) {
    const key = conversationKey(m);
    const list = groups.get(key);
    if (list) list.push(m);
    else groups.set(key, [m]);
  }
  const conversations: Conversation[] = [];
  for (const [id, list] of groups) {
    const first = list[0];
    const last = list[list.length - 1];
    conversations.push({
      id,
      title: titleFromText(first.text),
      messages: list,
      startedAtMs: first.createdAtMs ?? nowMs,
      lastActivityMs: last.createdAtMs ?? nowMs,
    });
  }
  return conversations.sort(
    (a, b) => b.lastActivityMs - a.lastActivityMs || b.startedAtMs - a.startedAtMs || a.id.localeCompare(b.id),
  );
}

/** A fresh conversation id (random UUID; falls back where crypto.randomUUID is unavailable). */
export function newConversationId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Which conversation to show: the selected one if it exists, is a fresh (empty) draft or was opened
 * from the list (it stays open even if newer messages elsewhere push it out of the recent ones),
 * otherwise the most recent conversation, otherwise null (the caller starts a new one).
 */
export function resolveSelection(
  selected: string | null,
  conversations: readonly Conversation[],
  draftId: string | null,
  opened: string | null = null,
): string | null {
  if (selected && (selected === draftId || selected === opened || conversations.some((c) => c.id === selected))) return selected;
  return conversations[0]?.id ?? null;
}
