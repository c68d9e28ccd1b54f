/** The six emotion labels, in the order the classifiers emit them. */
export const EMOTIONS = ["sadness", "joy", "love", "anger", "fear", "surprise"] as const;
export type Emotion = (typeof EMOTIONS)[number];

export function isEmotion(value: unknown): value is Emotion {
  return typeof value === "string" && (EMOTIONS as readonly string[]).includes(value);
}

/** Lifecycle of a message as written by the function (`status.state`). */
export type MessageState = "pending" | "processing" | "done" | "error";

export interface EmotionResult {
  label: string;
  score: number | null;
  /** Probability per label; missing labels are absent. */
  scores: Partial<Record<Emotion, number>>;
  /** The model's top probability is under its calibrated threshold: no emotion is claimed. */
  unsure?: boolean;
}

export interface ModelRef {
  id: string;
  version: string | null;
}

export interface ServedBy {
  /** `members`: for the ensemble, each classifier that voted (empty otherwise). */
  classifier: (ModelRef & { sha256: string | null; members: ModelRef[] }) | null;
  replier: ModelRef | null;
}

export interface Timings {
  fetchMs: number | null;
  classifyMs: number | null;
  generateMs: number | null;
  totalMs: number | null;
  coldStart: boolean;
}

/** A thought another user shared, shown under a reply ("Others felt this too"): no author, ever. */
export interface SimilarThought {
  id: string;
  text: string;
  /** Cosine similarity to this message, 0..1. */
  score: number | null;
}

/** A chat message as the UI sees it: parsed defensively from the Firestore document. */
export interface ChatMessage {
  id: string;
  text: string;
  model: string;
  /** null for messages written without a conversation (e.g. by another client). */
  conversationId: string | null;
  /** Server time in ms; null while the server timestamp is still pending locally. */
  createdAtMs: number | null;
  /** True while the create (or a later update) has not reached the server. */
  pendingWrite: boolean;
  status: { state: MessageState; attempt: number | null; updatedAtMs: number | null } | null;
  emotion: EmotionResult | null;
  /** `source`: "pool" (a person's reply to a similar message), "refined" (the T5 reworded one), "model" (the T5 wrote it), "fixed"; null if absent. */
  reply: { text: string; model: ModelRef | null; source?: string | null } | null;
  servedBy: ServedBy | null;
  timings: Timings | null;
  error: { code: string; message: string } | null;
  feedback: { label: Emotion; atMs: number | null } | null;
  /** The owner's wish: share an anonymised copy (off unless set). */
  share: boolean;
  /** The pool entry while the anonymised copy is shared (written by the function). */
  sharedThoughtId: string | null;
  /** Reports hid the shared copy; it cannot be shared again. */
  shareBlocked: boolean;
  /** Similar thoughts of other people; null until (or unless) matching ran. */
  similar: SimilarThought[] | null;
  /** When this client first saw the message (ms), if known: the pending timeout's reference while
   * the message has no server time. */
  firstSeenMs?: number;
}

/** One entry of the public model catalog `models/{id}`. */
export interface CatalogModel {
  id: string;
  displayName: string;
  task: string;
  version: string | null;
  trained: boolean | null;
  status: string | null;
  statusReason: string | null;
  /** accuracy and macroF1: on the tweets test split; chatMacroF1: the mean macro-F1 on the four chat-like test sets. */
  metrics: { accuracy: number | null; macroF1: number | null; chatMacroF1: number | null; latencyMs: number | null };
}

/** Used only until the catalog has loaded or when no model in it has a chat figure. */
export const DEFAULT_MODEL = "bert";
