import type { ChatMessage } from "./types";

/** A message with sensible defaults for tests. */
export function msg(over: Partial<ChatMessage> & { id: string }): ChatMessage {
  return {
    text: `text of ${over.id}`,
    model: "bert",
    conversationId: "c1",
    createdAtMs: 1_000,
    pendingWrite: false,
    status: null,
    emotion: null,
    reply: null,
    servedBy: null,
    timings: null,
    error: null,
    feedback: null,
    share: false,
    sharedThoughtId: null,
    shareBlocked: false,
    similar: null,
    ...over,
  };
}
