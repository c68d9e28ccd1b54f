import { effectiveModelId, isSelectable, modelOptionLabel, pickableModels } from "../lib/models";
import type { CatalogModel } from "../lib/types";

interface Props {
  catalog: CatalogModel[];
  loading: boolean;
  error: string | null;
  value: string | null;
  onChange: (id: string) => void;
}

/** The emotion model picker, filled live from the public catalog. */
export function ModelPicker({ catalog, loading, error, value, onChange }: Props) {
  const current = effectiveModelId(value, catalog);
  const options = pickableModels(catalog);
  const selected = options.find((m) => m.id === current);
  let warning: string | null = null;
  if (error) warning = `Model list unavailable: ${error}`;
  else if (!loading && !selected) warning = `“${current}” is not in the model catalog yet.`;
  else if (selected && !isSelectable(selected))
    warning = `${selected.displayName} is unavailable${selected.statusReason ? `: ${selected.statusReason}` : ""}. Pick another model.`;

  return (
    <div className="picker">
      <label htmlFor="model-picker" className="picker-label">
        Emotion model
      </label>
      <select
        id="model-picker"
        data-testid="model-picker"
        value={current}
        onChange={(e) => onChange(e.target.value)}
        aria-describedby={warning ? "model-picker-warning" : undefined}
      >
        {!selected && (
          <option value={current}>
            {current}
            {loading ? " (loading models…)" : " (not in catalog)"}
          </option>
        )}
        {options.map((m) => (
          <option key={m.id} value={m.id} disabled={!isSelectable(m)}>
            {modelOptionLabel(m)}
          </option>
        ))}
      </select>
      {warning && (
        <p className="picker-warning" id="model-picker-warning">
          {warning}
        </p>
      )}
    </div>
  );
}
