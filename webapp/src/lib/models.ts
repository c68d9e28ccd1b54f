import { formatMs, formatPercent, formatVersion } from "./format";
import { DEFAULT_MODEL, type CatalogModel } from "./types";

/** Catalog tasks the user may pick: single classifiers and the ensemble (not the replier). */
export const PICKABLE_TASKS = ["text-classification", "ensemble"] as const;

const PREFERRED_ORDER = ["bert", "distilbert", "roberta", "electra", "mobilebert", "ensemble"];

export function isPickable(m: CatalogModel): boolean {
  return (PICKABLE_TASKS as readonly string[]).includes(m.task);
}

/** A model can be chosen unless the catalog marks it invalid. */
export function isSelectable(m: CatalogModel): boolean {
  return m.status !== "invalid";
}

/**
 * Pickable models, best on chat-like text first (the catalog's `chatMacroF1`); models without that
 * figure follow in a stable order: the known ids first (ensemble last of them), then by name.
 */
export function pickableModels(models: readonly CatalogModel[]): CatalogModel[] {
  const rank = (id: string) => {
    const i = PREFERRED_ORDER.indexOf(id);
    return i === -1 ? PREFERRED_ORDER.length : i;
  };
  const chat = (m: CatalogModel) => m.metrics.chatMacroF1 ?? -1;
  return models
    .filter(isPickable)
    .sort(
      (a, b) =>
        chat(b) - chat(a) ||
        rank(a.id) - rank(b.id) ||
        a.displayName.localeCompare(b.displayName) ||
        a.id.localeCompare(b.id),
    );
}

/** The text of a picker option, e.g. "BERT v3 · chat F1 78.2% · tweets acc 93.1% · emotion in 4.2 ms · untrained"
 * (chat F1: the mean macro-F1 on four chat-like test sets; emotion in: the time to classify one message,
 * measured on one thread; the answer line shows the same step). */
export function modelOptionLabel(m: CatalogModel): string {
  const head = [m.displayName, formatVersion(m.version)].filter(Boolean).join(" ");
  const parts = [head];
  const { accuracy, macroF1, chatMacroF1, latencyMs } = m.metrics;
  if (chatMacroF1 != null) parts.push(`chat F1 ${formatPercent(chatMacroF1, 1)}`);
  if (accuracy != null) parts.push(`tweets acc ${formatPercent(accuracy, 1)}`);
  if (macroF1 != null && chatMacroF1 == null) parts.push(`tweets F1 ${formatPercent(macroF1, 1)}`);
  if (latencyMs != null) parts.push(`emotion in ${formatMs(latencyMs)}`);
  if (m.trained === false) parts.push("untrained");
  if (!isSelectable(m)) parts.push(`unavailable: ${m.statusReason || "invalid"}`);
  else if (m.status && m.status !== "serving") parts.push(m.status);
  return parts.join(" · ");
}

/** The id to show as selected: the user's preference, else the selectable model best on chat-like text. */
export function effectiveModelId(preferred: string | null | undefined, catalog: readonly CatalogModel[] = []): string {
  if (preferred && preferred.length > 0) return preferred;
  const best = pickableModels(catalog).find((m) => isSelectable(m) && m.metrics.chatMacroF1 != null);
  return best?.id ?? DEFAULT_MODEL;
}
