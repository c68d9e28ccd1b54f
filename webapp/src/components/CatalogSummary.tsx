import { useCatalog } from "../data/hooks";
import { formatVersion } from "../lib/format";
import { isSelectable, pickableModels } from "../lib/models";

/** The public model catalog at a glance (shown before signing in; the catalog is world-readable). */
export function CatalogSummary() {
  const { data, loading, error } = useCatalog();
  const models = pickableModels(data);
  if (loading || error || models.length === 0) return null;
  return (
    <section className="signin-models" aria-label="Emotion models">
      <h2>Emotion models</h2>
      <ul>
        {models.map((m) => (
          <li key={m.id} className={isSelectable(m) ? undefined : "is-invalid"} title={m.statusReason ?? undefined}>
            {m.displayName} {formatVersion(m.version)}
            {m.trained === false ? " · untrained" : ""}
            {!isSelectable(m) ? " · unavailable" : ""}
          </li>
        ))}
      </ul>
    </section>
  );
}
