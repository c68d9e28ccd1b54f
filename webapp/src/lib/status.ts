import type { ChatMessage, MessageState } from "./types";

/** Default time after which a pending/processing message shows "taking longer than usual". */
export const DEFAULT_PENDING_TIMEOUT_MS = 30_000;

/**
 * The state the UI shows. A message without `status` yet counts as pending; an `error` field
 * wins over anything else; `done` without a reply still counts as done.
 */
export function effectiveState(m: Pick<ChatMessage, "status" | "error" | "reply">): MessageState {
  if (m.status?.state === "error" || (m.error && m.status?.state !== "done")) return "error";
  if (m.status?.state === "done") return "done";
  if (m.status?.state === "processing") return "processing";
  if (!m.status && m.reply) return "done";
  return "pending";
}

export function isWaiting(state: MessageState): boolean {
  return state === "pending" || state === "processing";
}

/**
 * Milliseconds the message has been waiting. Measured from its server creation time when known,
 * otherwise from when this client first saw it (a pending local write has no server time yet).
 */
export function waitingForMs(
  m: Pick<ChatMessage, "createdAtMs">,
  nowMs: number,
  firstSeenMs: number | null = null,
): number {
  const since = m.createdAtMs ?? firstSeenMs ?? nowMs;
  return Math.max(0, nowMs - since);
}

/** True when the message is still pending/processing after `timeoutMs`. */
export function isOverdue(
  m: Pick<ChatMessage, "status" | "error" | "reply" | "createdAtMs">,
  nowMs: number,
  timeoutMs: number = DEFAULT_PENDING_TIMEOUT_MS,
  firstSeenMs: number | null = null,
): boolean {
  if (!isWaiting(effectiveState(m))) return false;
  return waitingForMs(m, nowMs, firstSeenMs) >= timeoutMs;
}

/** Milliseconds until the message becomes overdue (0 if it already is), or null if it is not waiting. */
export function msUntilOverdue(
  m: Pick<ChatMessage, "status" | "error" | "reply" | "createdAtMs">,
  nowMs: number,
  timeoutMs: number = DEFAULT_PENDING_TIMEOUT_MS,
  firstSeenMs: number | null = null,
): number | null {
  if (!isWaiting(effectiveState(m))) return null;
  return Math.max(0, timeoutMs - waitingForMs(m, nowMs, firstSeenMs));
}

/**
 * Parse a timeout setting (env var or URL parameter) in milliseconds; falls back to the default
 * for anything that is not a positive finite number.
 */
export function parseTimeoutMs(value: string | null | undefined, fallback: number = DEFAULT_PENDING_TIMEOUT_MS): number {
  if (value == null || value.trim() === "") return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.round(n) : fallback;
}
