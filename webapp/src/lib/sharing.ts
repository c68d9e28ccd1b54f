import { effectiveState } from "./status";
import type { ChatMessage, SimilarThought } from "./types";

// "Others felt this too": sharing an anonymised copy of one's own message, and the similar
// thoughts of other people shown under a reply. Pure helpers; the Firestore calls are in data/api.ts.

/** Where one's own message stands with the shared pool. */
export type ShareState =
  | "off" // not shared (the default)
  | "waiting" // asked to share; shared once the answer (and so its emotion) is in
  | "sharing" // answered; the function is adding it to the pool
  | "shared" // in the pool: other people with a similar thought may see it
  | "stopping" // asked to stop; the function is taking it out
  | "hidden" // reports hid it from everyone; it cannot be shared again
  | "unavailable"; // the message got no answer, so there is nothing to share

export function shareState(m: ChatMessage): ShareState {
  if (m.shareBlocked) return "hidden";
  if (!m.share) return m.sharedThoughtId ? "stopping" : "off";
  if (m.sharedThoughtId) return "shared";
  const state = effectiveState(m);
  if (state === "error") return "unavailable";
  return state === "done" ? "sharing" : "waiting";
}

/** What the owner reads next to the share switch. */
export function shareStatusText(state: ShareState): string {
  switch (state) {
    case "off":
      return "Only you can see this message.";
    case "waiting":
      return "Will be shared anonymously once answered.";
    case "sharing":
      return "Sharing anonymously…";
    case "shared":
      return "Shared anonymously: others with a similar thought may see the text, never who wrote it.";
    case "stopping":
      return "Removing it from what others can see…";
    case "hidden":
      return "Hidden from others after reports; it cannot be shared again.";
    case "unavailable":
      return "Not shared: this message has no answer.";
  }
}

/** Whether the switch is on (the owner's wish) and whether it can be flipped now. */
export function shareSwitch(state: ShareState): { on: boolean; enabled: boolean } {
  const on = state === "waiting" || state === "sharing" || state === "shared";
  return { on, enabled: state !== "hidden" && state !== "unavailable" };
}

/** The reasons a report may give (the security rules accept exactly these). */
export const REPORT_REASONS = [
  { value: "offensive", label: "Offensive or hurtful" },
  { value: "harmful", label: "Encourages harm" },
  { value: "personal_information", label: "Gives away who someone is" },
  { value: "spam", label: "Spam or advertising" },
  { value: "other", label: "Something else" },
] as const;

export type ReportReason = (typeof REPORT_REASONS)[number]["value"];

export function isReportReason(v: unknown): v is ReportReason {
  return typeof v === "string" && REPORT_REASONS.some((r) => r.value === v);
}

/** Text compared for sameness: case and runs of whitespace do not make two thoughts different. */
export function sameTextKey(text: string): string {
  return text.normalize("NFC").replace(/\s+/g, " ").trim().toLowerCase();
}

/** What this user reported under one reply: the thoughts, and their texts (the same words shared by
 * someone else are not shown to the reporter again either). */
export interface Reported {
  ids: ReadonlySet<string>;
  texts: ReadonlySet<string>;
}

export const NOTHING_REPORTED: Reported = { ids: new Set(), texts: new Set() };

export function withReport(reported: Reported, thought: SimilarThought): Reported {
  return { ids: new Set([...reported.ids, thought.id]), texts: new Set([...reported.texts, sameTextKey(thought.text)]) };
}

/** The thoughts to show: what the function matched, minus what this user reported, each text once
 * (several people may share the same words; the closest of them is kept). */
export function visibleSimilar(similar: SimilarThought[] | null, reported: Reported = NOTHING_REPORTED): SimilarThought[] {
  const seen = new Set(reported.texts);
  const shown: SimilarThought[] = [];
  for (const t of similar ?? []) {
    const key = sameTextKey(t.text);
    if (reported.ids.has(t.id) || seen.has(key)) continue;
    seen.add(key);
    shown.push(t);
  }
  return shown;
}

/** A similarity as words, for screen readers and the tooltip: 0.91 -> "91% similar". */
export function similarityText(score: number | null): string {
  if (score == null || !Number.isFinite(score)) return "similar";
  return `${Math.round(Math.min(1, Math.max(0, score)) * 100)}% similar`;
}
