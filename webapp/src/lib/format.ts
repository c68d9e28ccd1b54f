import { EMOTIONS, type ChatMessage, type Emotion, type EmotionResult } from "./types";

/** 0.934 -> "93%"; values above 1 are taken as already in percent. */
export function formatPercent(p: number | null | undefined, digits = 0): string {
  if (p == null || !Number.isFinite(p)) return "–";
  const pct = p > 1 ? p : p * 100;
  return `${Math.min(100, Math.max(0, pct)).toFixed(digits)}%`;
}

/** "412 ms", "8.5 ms", "1.2 s". */
export function formatMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return "–";
  if (ms < 10) return `${(Math.round(ms * 10) / 10).toString()} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** "3" -> "v3", "20261123-1" -> "v20261123-1", "v3" -> "v3", "bert+roberta" (an ensemble) -> "2 models", null -> "". */
export function formatVersion(v: string | null | undefined): string {
  if (!v) return "";
  if (v.includes("+")) return `${v.split("+").filter(Boolean).length} models`;
  return /^\d/.test(v) ? `v${v}` : v;
}

function nameWithVersion(id: string, version: string | null | undefined): string {
  const v = formatVersion(version);
  return v ? `${id} ${v}` : id;
}

/**
 * The provenance line of an answered message, e.g.
 * "answered by bert v3 · reply by t5-small v2 · 412 ms on the server (emotion 4 ms, reply 300 ms)";
 * for the ensemble "answered by ensemble of bert v3, distilbert v1, … · …". The emotion time is the
 * one the model picker shows as "emotion in … ms".
 */
export function formatServedBy(m: Pick<ChatMessage, "servedBy" | "timings" | "model"> & Partial<Pick<ChatMessage, "reply">>): string {
  const classifier = m.servedBy?.classifier;
  let who = classifier ? nameWithVersion(classifier.id, classifier.version) : m.model || "unknown model";
  if (classifier && classifier.members.length > 0) {
    who = `${classifier.id} of ${classifier.members.map((p) => nameWithVersion(p.id, p.version)).join(", ")}`;
  }
  const parts = [`answered by ${who}`];
  const replier = m.servedBy?.replier;
  if (replier) {
    const by = nameWithVersion(replier.id, replier.version);
    const source = m.reply?.source;
    parts.push(
      source === "pool"
        ? `reply: what people answered to a similar message (${by})`
        : source === "refined"
          ? `reply by ${by}, reworded from what people answered to a similar message`
          : `reply by ${by}`,
    );
  }
  const t = m.timings;
  if (t?.totalMs != null) {
    const steps = [
      t.classifyMs != null ? `emotion ${formatMs(t.classifyMs)}` : null,
      t.generateMs != null ? `reply ${formatMs(t.generateMs)}` : null,
    ].filter(Boolean);
    const detail = [t.coldStart ? "cold start" : null, ...steps].filter(Boolean).join(", ");
    parts.push(`${formatMs(t.totalMs)} on the server${detail ? ` (${detail})` : ""}`);
  }
  return parts.join(" · ");
}

export function capitalize(s: string): string {
  return s.length ? s[0].toUpperCase() + s.slice(1) : s;
}

export interface EmotionBar {
  label: Emotion;
  /** 0..1 */
  value: number;
  percent: string;
  isTop: boolean;
}

/** The six bars in the fixed label order; a missing probability is shown as 0. */
export function emotionBars(e: EmotionResult): EmotionBar[] {
  return EMOTIONS.map((label) => {
    const raw = e.scores[label] ?? 0;
    const value = Math.min(1, Math.max(0, raw > 1 ? raw / 100 : raw));
    return { label, value, percent: formatPercent(value), isTop: label === e.label };
  });
}

/** The badge text, e.g. "joy 93%". */
export function formatEmotionBadge(e: EmotionResult): string {
  const score = e.score ?? (e.scores as Record<string, number | undefined>)[e.label];
  const head = score == null ? e.label : `${e.label} ${formatPercent(score)}`;
  return e.unsure ? `not sure (maybe ${head})` : head;
}

/** Clock time of a message ("14:05"), or "sending…" while the server time is unknown. */
export function formatMessageTime(ms: number | null, locale?: string): string {
  if (ms == null) return "sending…";
  return new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" }).format(new Date(ms));
}

/** Relative time for the conversation list: "just now", "5 min ago", "3 h ago", "yesterday", or a date. */
export function formatRelative(ms: number, nowMs: number, locale?: string): string {
  const diff = Math.max(0, nowMs - ms);
  const min = Math.floor(diff / 60_000);
  if (min < 1) return "just now";
  if (min < 60) return `${min} min ago`;
  const hours = Math.floor(min / 60);
  if (hours < 24) return `${hours} h ago`;
  if (hours < 48) return "yesterday";
  const d = new Date(ms);
  const sameYear = d.getFullYear() === new Date(nowMs).getFullYear();
  return new Intl.DateTimeFormat(locale, sameYear ? { day: "numeric", month: "short" } : { day: "numeric", month: "short", year: "numeric" }).format(d);
}
