import {
  EMOTIONS,
  isEmotion,
  type CatalogModel,
  type ChatMessage,
  type Emotion,
  type EmotionResult,
  type MessageState,
  type ModelRef,
  type ServedBy,
  type SimilarThought,
  type Timings,
} from "./types";

// Parsers from raw Firestore data to the UI's types. Everything written by the function is
// treated as untrusted shape: a missing or malformed field degrades to null, never a crash.

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** A version may be stored as a number or a string; the UI always shows a string. */
function version(v: unknown): string | null {
  if (typeof v === "string" && v.length > 0) return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return null;
}

/** Milliseconds from a Firestore Timestamp, a Date, `{seconds, nanoseconds}`, or a number; null otherwise. */
export function toMillis(v: unknown): number | null {
  if (v == null) return null;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.getTime();
  if (isObject(v)) {
    if (typeof v.toMillis === "function") {
      const ms = (v.toMillis as () => number)();
      return Number.isFinite(ms) ? ms : null;
    }
    const seconds = num(v.seconds);
    if (seconds !== null) return seconds * 1000 + Math.floor((num(v.nanoseconds) ?? 0) / 1e6);
  }
  return null;
}

const STATES: readonly MessageState[] = ["pending", "processing", "done", "error"];

function modelRef(v: unknown): ModelRef | null {
  if (!isObject(v)) return null;
  const id = str(v.id);
  return id ? { id, version: version(v.version) } : null;
}

function parseEmotion(v: unknown): EmotionResult | null {
  if (!isObject(v)) return null;
  const label = str(v.label);
  if (!label) return null;
  const scores: EmotionResult["scores"] = {};
  if (isObject(v.scores)) {
    for (const e of EMOTIONS) {
      const p = num(v.scores[e]);
      if (p !== null) scores[e] = p;
    }
  }
  let score = num(v.score);
  if (score === null && isEmotion(label) && scores[label] !== undefined) score = scores[label] ?? null;
  return { label, score, scores, unsure: v.unsure === true };
}

function parseServedBy(v: unknown): ServedBy | null {
  if (!isObject(v)) return null;
  const c = modelRef(v.classifier);
  const classifier =
    c && isObject(v.classifier)
      ? {
          ...c,
          sha256: str(v.classifier.sha256),
          members: Array.isArray(v.classifier.members)
            ? v.classifier.members.map(modelRef).filter((m): m is ModelRef => m !== null)
            : [],
        }
      : null;
  const replier = modelRef(v.replier);
  return classifier || replier ? { classifier, replier } : null;
}

function parseTimings(v: unknown): Timings | null {
  if (!isObject(v)) return null;
  return {
    fetchMs: num(v.fetchMs),
    classifyMs: num(v.classifyMs),
    generateMs: num(v.generateMs),
    totalMs: num(v.totalMs),
    coldStart: v.coldStart === true,
  };
}

const MAX_SIMILAR = 3;

/** `similar`: well-formed entries only (an id and a text), at most three; null when absent. */
export function parseSimilar(v: unknown): SimilarThought[] | null {
  if (!Array.isArray(v)) return null;
  const out: SimilarThought[] = [];
  for (const item of v) {
    if (!isObject(item)) continue;
    const id = str(item.id);
    const text = str(item.text);
    if (id && text) out.push({ id, text, score: num(item.score) });
  }
  return out.slice(0, MAX_SIMILAR);
}

/** Parse `users/{uid}/messages/{id}` data (read with serverTimestamps "estimate" or the default). */
export function parseMessage(id: string, data: Raw, pendingWrite = false): ChatMessage {
  const status = isObject(data.status) ? data.status : null;
  const state = status && STATES.includes(status.state as MessageState) ? (status.state as MessageState) : null;
  const reply = isObject(data.reply) ? data.reply : null;
  const replyText = reply ? str(reply.text) : null;
  const error = isObject(data.error) ? data.error : null;
  const feedback = isObject(data.feedback) && isEmotion(data.feedback.label) ? data.feedback : null;
  const conversationId = str(data.conversationId);
  return {
    id,
    text: str(data.text) ?? "",
    model: str(data.model) ?? "",
    conversationId: conversationId && conversationId.length > 0 ? conversationId : null,
    createdAtMs: toMillis(data.createdAt),
    pendingWrite,
    status: state
      ? { state, attempt: num(status?.attempt), updatedAtMs: toMillis(status?.updatedAt) }
      : null,
    emotion: parseEmotion(data.emotion),
    reply: replyText !== null ? { text: replyText, model: modelRef(reply?.model), source: str(reply?.source) } : null,
    servedBy: parseServedBy(data.servedBy),
    timings: parseTimings(data.timings),
    error: error
      ? { code: str(error.code) ?? "internal", message: str(error.message) ?? "" }
      : null,
    feedback: feedback ? { label: feedback.label as Emotion, atMs: toMillis(feedback.at) } : null,
    share: data.share === true,
    sharedThoughtId: isObject(data.sharedThought) ? str(data.sharedThought.id) || null : null,
    shareBlocked: data.shareBlocked === true,
    similar: parseSimilar(data.similar),
  };
}

const CLASSIFIER_IDS = ["bert", "distilbert", "roberta", "electra", "mobilebert"];

/**
 * Parse a catalog document `models/{id}`; the document id wins when the `id` field is missing.
 * A document that only records a refused version (`lastRefused`, no `status` yet: nothing of that
 * model has ever served) reads as invalid with the refusal's reason, and a known classifier id
 * without `task` counts as a classifier, so the picker can still show why it is unavailable.
 */
export function parseCatalogModel(docId: string, data: Raw): CatalogModel {
  const metrics = isObject(data.metrics) ? data.metrics : {};
  const id = str(data.id) ?? docId;
  const refused = isObject(data.lastRefused) ? data.lastRefused : null;
  let status = str(data.status);
  let statusReason = str(data.statusReason) || null;
  if (!status && refused) {
    status = "invalid";
    statusReason = statusReason ?? str(refused.reason);
  }
  let task = str(data.task) ?? "";
  if (!task && CLASSIFIER_IDS.includes(id)) task = "text-classification";
  if (!task && id === "ensemble") task = "ensemble";
  return {
    id,
    displayName: str(data.displayName) ?? str(data.id) ?? docId,
    task,
    version: version(data.version),
    trained: typeof data.trained === "boolean" ? data.trained : null,
    status,
    statusReason,
    metrics: {
      accuracy: num(metrics.accuracy),
      macroF1: num(metrics.macro_f1) ?? num(metrics.macroF1),
      chatMacroF1: num(metrics.chat_macro_f1) ?? num(metrics.chatMacroF1),
      latencyMs: num(metrics.latency_ms) ?? num(metrics.latencyMs),
    },
  };
}
