import { describe, expect, it } from "vitest";
import { parseCatalogModel, parseMessage, parseSimilar, toMillis } from "./parse";

const ts = (ms: number) => ({ toMillis: () => ms });

describe("toMillis", () => {
  it("reads Timestamps, {seconds, nanoseconds}, Dates and numbers", () => {
    expect(toMillis(ts(1234))).toBe(1234);
    expect(toMillis({ seconds: 2, nanoseconds: 500_000_000 })).toBe(2500);
    expect(toMillis(new Date(99))).toBe(99);
    expect(toMillis(7)).toBe(7);
    expect(toMillis(null)).toBeNull();
    expect(toMillis("x")).toBeNull();
  });
});

describe("parseMessage", () => {
  it("reads a freshly created message (pending server timestamp)", () => {
    const m = parseMessage("m1", { text: "hi", model: "bert", createdAt: null, conversationId: "c" }, true);
    expect(m).toMatchObject({ id: "m1", text: "hi", model: "bert", conversationId: "c", createdAtMs: null, pendingWrite: true, status: null });
  });

  it("reads a fully answered message", () => {
    const m = parseMessage("m2", {
      text: "I got the job",
      model: "bert",
      createdAt: ts(1000),
      conversationId: "c",
      status: { state: "done", attempt: 1, updatedAt: ts(1400) },
      emotion: { label: "joy", score: 0.9, scores: { sadness: 0.01, joy: 0.9, love: 0.05, anger: 0.01, fear: 0.02, surprise: 0.01, bogus: 3 } },
      reply: { text: "Congratulations!", model: { id: "t5", version: "1" }, source: "pool" },
      servedBy: { classifier: { id: "bert", version: "3", sha256: "ab" }, replier: { id: "t5", version: 1 } },
      timings: { fetchMs: 0, classifyMs: 4, generateMs: 200, totalMs: 230, coldStart: false },
      feedback: { label: "surprise", at: ts(2000) },
    });
    expect(m.status).toEqual({ state: "done", attempt: 1, updatedAtMs: 1400 });
    expect(m.emotion?.label).toBe("joy");
    expect(m.emotion?.scores).not.toHaveProperty("bogus");
    expect(m.reply).toEqual({ text: "Congratulations!", model: { id: "t5", version: "1" }, source: "pool" });
    expect(m.servedBy?.classifier).toEqual({ id: "bert", version: "3", sha256: "ab", members: [] });
    expect(m.servedBy?.replier).toEqual({ id: "t5", version: "1" });
    expect(m.timings?.totalMs).toBe(230);
    expect(m.feedback).toEqual({ label: "surprise", atMs: 2000 });
  });

  it("reads the ensemble's members, skipping malformed ones", () => {
    const m = parseMessage("m4", {
      servedBy: {
        classifier: { id: "ensemble", version: "bert@3+roberta@2", members: [{ id: "bert", version: "3" }, { version: "9" }, { id: "roberta", version: 2 }] },
      },
    });
    expect(m.servedBy?.classifier?.members).toEqual([
      { id: "bert", version: "3" },
      { id: "roberta", version: "2" },
    ]);
  });

  it("degrades malformed function fields to null instead of throwing", () => {
    const m = parseMessage("m3", {
      text: 5,
      status: { state: "weird" },
      emotion: "joy",
      reply: { text: 3 },
      servedBy: [],
      timings: "fast",
      error: { message: "boom" },
      feedback: { label: "boredom" },
      conversationId: "",
    });
    expect(m).toMatchObject({ text: "", model: "", status: null, emotion: null, reply: null, servedBy: null, timings: null, feedback: null, conversationId: null });
    expect(m.error).toEqual({ code: "internal", message: "boom" });
  });

  it("takes the score from scores when missing", () => {
    const m = parseMessage("m4", { emotion: { label: "fear", scores: { fear: 0.7 } } });
    expect(m.emotion?.score).toBe(0.7);
    expect(m.emotion?.unsure).toBe(false);
  });

  it("reads 'not sure' only from a literal true", () => {
    expect(parseMessage("m5", { emotion: { label: "anger", score: 0.3, unsure: true } }).emotion?.unsure).toBe(true);
    expect(parseMessage("m6", { emotion: { label: "anger", score: 0.3, unsure: "yes" } }).emotion?.unsure).toBe(false);
  });
});

describe("parseCatalogModel", () => {
  it("reads the catalog fields with snake_case metrics", () => {
    const m = parseCatalogModel("bert", {
      id: "bert",
      displayName: "BERT",
      task: "text-classification",
      version: "3",
      trained: true,
      status: "serving",
      statusReason: null,
      metrics: { accuracy: 0.93, macro_f1: 0.89, chat_macro_f1: 0.71, latency_ms: 4 },
    });
    expect(m).toEqual({
      id: "bert",
      displayName: "BERT",
      task: "text-classification",
      version: "3",
      trained: true,
      status: "serving",
      statusReason: null,
      metrics: { accuracy: 0.93, macroF1: 0.89, chatMacroF1: 0.71, latencyMs: 4 },
    });
  });
  it("falls back to the document id", () => {
    const m = parseCatalogModel("custom", {});
    expect(m).toMatchObject({ id: "custom", displayName: "custom", task: "", trained: null, version: null, status: null });
    expect(parseCatalogModel("electra", {}).task).toBe("text-classification");
  });
});

describe("sharing fields", () => {
  it("are off and empty on a message that never asked", () => {
    const m = parseMessage("m1", { text: "hi", model: "bert" });
    expect(m).toMatchObject({ share: false, sharedThoughtId: null, shareBlocked: false, similar: null });
  });

  it("read the owner's wish, the pool entry and the similar thoughts", () => {
    const m = parseMessage("m1", {
      text: "hi",
      share: true,
      sharedThought: { id: "t9", sharedAt: { seconds: 1, nanoseconds: 0 } },
      shareBlocked: true,
      similar: [{ id: "t1", text: "me too", score: 0.91 }],
      similarIds: ["t1"],
    });
    expect(m).toMatchObject({ share: true, sharedThoughtId: "t9", shareBlocked: true });
    expect(m.similar).toEqual([{ id: "t1", text: "me too", score: 0.91 }]);
  });

  it("keep only well-formed similar thoughts, at most three, and never anything else", () => {
    expect(
      parseSimilar([
        { id: "t1", text: "a", score: "high", uid: "someone" },
        { id: "", text: "no id" },
        { id: "t2" },
        "t3",
        { id: "t4", text: "b" },
        { id: "t5", text: "c" },
        { id: "t6", text: "d" },
      ]),
    ).toEqual([
      { id: "t1", text: "a", score: null },
      { id: "t4", text: "b", score: null },
      { id: "t5", text: "c", score: null },
    ]);
    expect(parseSimilar("t1")).toBeNull();
    expect(parseSimilar([])).toEqual([]);
    expect(parseMessage("m", { share: "yes", sharedThought: "t1" })).toMatchObject({ share: false, sharedThoughtId: null });
  });
});

