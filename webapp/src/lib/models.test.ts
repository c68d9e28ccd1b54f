import { describe, expect, it } from "vitest";
import { effectiveModelId, isSelectable, modelOptionLabel, pickableModels } from "./models";
import { parseCatalogModel } from "./parse";

const catalog = [
  parseCatalogModel("t5", { id: "t5", displayName: "T5 replier", task: "text2text-generation", version: "1", trained: true, status: "serving" }),
  parseCatalogModel("ensemble", { id: "ensemble", displayName: "Ensemble", task: "ensemble", version: "1", trained: true, status: "serving" }),
  parseCatalogModel("roberta", {
    id: "roberta",
    displayName: "RoBERTa",
    task: "text-classification",
    version: "2",
    trained: true,
    status: "invalid",
    statusReason: "checksum mismatch",
    metrics: { accuracy: 0.91, macro_f1: 0.87, latency_ms: 3.9 },
  }),
  parseCatalogModel("bert", {
    id: "bert",
    displayName: "BERT",
    task: "text-classification",
    version: 3,
    trained: true,
    status: "serving",
    metrics: { accuracy: 0.9312, macro_f1: 0.8901, latency_ms: 4.24 },
  }),
  parseCatalogModel("mobilebert", { id: "mobilebert", displayName: "MobileBERT", task: "text-classification", version: "1", trained: false, status: "serving", metrics: {} }),
];

describe("pickableModels", () => {
  it("keeps classifiers and the ensemble, drops the replier, in a stable order", () => {
    expect(pickableModels(catalog).map((m) => m.id)).toEqual(["bert", "roberta", "mobilebert", "ensemble"]);
  });
  it("puts unknown ids after the known ones, by name", () => {
    const extra = parseCatalogModel("zeta", { displayName: "Alpha custom", task: "text-classification" });
    expect(pickableModels([...catalog, extra]).map((m) => m.id).at(-1)).toBe("zeta");
  });
});

describe("modelOptionLabel", () => {
  it("shows name, version, accuracy, macro-F1 and latency", () => {
    const bert = catalog.find((m) => m.id === "bert")!;
    expect(modelOptionLabel(bert)).toBe("BERT v3 · tweets acc 93.1% · tweets F1 89.0% · emotion in 4.2 ms");
  });
  it("marks untrained models", () => {
    expect(modelOptionLabel(catalog.find((m) => m.id === "mobilebert")!)).toBe("MobileBERT v1 · untrained");
  });
  it("gives the reason for invalid models, which are not selectable", () => {
    const roberta = catalog.find((m) => m.id === "roberta")!;
    expect(isSelectable(roberta)).toBe(false);
    expect(modelOptionLabel(roberta)).toContain("unavailable: checksum mismatch");
  });
  it("shows a non-serving status", () => {
    const m = parseCatalogModel("electra", { displayName: "ELECTRA", task: "text-classification", status: "publishing" });
    expect(modelOptionLabel(m)).toBe("ELECTRA · publishing");
    expect(isSelectable(m)).toBe(true);
  });
});

describe("catalog documents written by the publisher", () => {
  it("a model whose only version was refused shows as invalid with the reason", () => {
    const m = parseCatalogModel("electra", { id: "electra", versions: {}, lastRefused: { version: "20261123-2", reason: "label count 5 != 6" } });
    expect(m.task).toBe("text-classification");
    expect(isSelectable(m)).toBe(false);
    expect(modelOptionLabel(m)).toBe("electra · unavailable: label count 5 != 6");
    expect(pickableModels([m]).map((x) => x.id)).toEqual(["electra"]);
  });
  it("a serving model keeps serving when a newer version was refused", () => {
    const m = parseCatalogModel("bert", { id: "bert", task: "text-classification", status: "serving", statusReason: "", lastRefused: { reason: "bad" } });
    expect(isSelectable(m)).toBe(true);
    expect(m.statusReason).toBeNull();
  });
  it("the ensemble's version lists its members", () => {
    const m = parseCatalogModel("ensemble", { id: "ensemble", displayName: "Ensemble", task: "ensemble", version: "bert+distilbert+electra", status: "serving", metrics: {} });
    expect(modelOptionLabel(m)).toBe("Ensemble 3 models");
  });
});

describe("effectiveModelId", () => {
  it("falls back to bert while no catalog entry has a chat figure", () => {
    expect(effectiveModelId(null)).toBe("bert");
    expect(effectiveModelId("")).toBe("bert");
    expect(effectiveModelId("electra")).toBe("electra");
    expect(effectiveModelId(null, catalog)).toBe("bert");
  });
});

describe("choosing by chat quality", () => {
  const chatCatalog = [
    parseCatalogModel("bert", { task: "text-classification", displayName: "BERT", metrics: { accuracy: 0.935, chat_macro_f1: 0.61 } }),
    parseCatalogModel("roberta", { task: "text-classification", displayName: "RoBERTa", metrics: { accuracy: 0.92, chat_macro_f1: 0.7 } }),
    parseCatalogModel("electra", {
      task: "text-classification",
      displayName: "ELECTRA",
      status: "invalid",
      metrics: { accuracy: 0.9, chat_macro_f1: 0.75 },
    }),
    parseCatalogModel("ensemble", { task: "ensemble", displayName: "Ensemble", metrics: { chat_macro_f1: 0.66 } }),
    parseCatalogModel("mobilebert", { task: "text-classification", displayName: "MobileBERT", metrics: {} }),
  ];
  it("orders the picker by the chat figure, not by tweet accuracy", () => {
    expect(pickableModels(chatCatalog).map((m) => m.id)).toEqual(["electra", "roberta", "ensemble", "bert", "mobilebert"]);
  });
  it("preselects the selectable model best on chat", () => {
    expect(effectiveModelId(null, chatCatalog)).toBe("roberta"); // electra is best but invalid
    expect(effectiveModelId("bert", chatCatalog)).toBe("bert"); // a user's own choice stands
  });
  it("shows both figures", () => {
    expect(modelOptionLabel(chatCatalog[1])).toBe("RoBERTa · chat F1 70.0% · tweets acc 92.0%");
  });
});
