import { describe, expect, it } from "vitest";
import { msg } from "./fixtures";
import {
  emotionBars,
  formatEmotionBadge,
  formatMessageTime,
  formatMs,
  formatPercent,
  formatRelative,
  formatServedBy,
  formatVersion,
} from "./format";

describe("formatPercent", () => {
  it("formats probabilities", () => {
    expect(formatPercent(0.934)).toBe("93%");
    expect(formatPercent(0.9346, 1)).toBe("93.5%");
    expect(formatPercent(0)).toBe("0%");
    expect(formatPercent(1)).toBe("100%");
  });
  it("takes values above 1 as percent already and clamps", () => {
    expect(formatPercent(93.1, 1)).toBe("93.1%");
    expect(formatPercent(250)).toBe("100%");
    expect(formatPercent(-0.2)).toBe("0%");
  });
  it("shows a dash for missing values", () => {
    expect(formatPercent(null)).toBe("–");
    expect(formatPercent(Number.NaN)).toBe("–");
  });
});

describe("formatMs / formatVersion", () => {
  it("formats durations", () => {
    expect(formatMs(4.24)).toBe("4.2 ms");
    expect(formatMs(412.6)).toBe("413 ms");
    expect(formatMs(12_345)).toBe("12.3 s");
    expect(formatMs(null)).toBe("–");
  });
  it("prefixes versions with v once", () => {
    expect(formatVersion("3")).toBe("v3");
    expect(formatVersion("v3")).toBe("v3");
    expect(formatVersion("20261123-1")).toBe("v20261123-1");
    expect(formatVersion(null)).toBe("");
    expect(formatVersion("bert+distilbert+roberta")).toBe("3 models");
    expect(formatVersion("latest")).toBe("latest");
  });
});

describe("formatServedBy", () => {
  it("names classifier, replier and what each time is", () => {
    const m = msg({
      id: "a",
      servedBy: { classifier: { id: "bert", version: "3", sha256: "abc", members: [] }, replier: { id: "t5-small", version: "2" } },
      timings: { fetchMs: 1, classifyMs: 4.2, generateMs: 300, totalMs: 412.4, coldStart: false },
    });
    expect(formatServedBy(m)).toBe("answered by bert v3 · reply by t5-small v2 · 412 ms on the server (emotion 4.2 ms, reply 300 ms)");
  });
  it("names every version the ensemble's answer came from", () => {
    const m = msg({
      id: "a",
      model: "ensemble",
      servedBy: {
        classifier: {
          id: "ensemble",
          version: "bert@3+distilbert@20260101",
          sha256: null,
          members: [
            { id: "bert", version: "3" },
            { id: "distilbert", version: "20260101" },
          ],
        },
        replier: { id: "t5", version: "1" },
      },
    });
    expect(formatServedBy(m)).toBe("answered by ensemble of bert v3, distilbert v20260101 · reply by t5 v1");
  });
  it("says when the reply is what a person answered to a similar message", () => {
    const servedBy = { classifier: { id: "bert", version: "3", sha256: "abc", members: [] }, replier: { id: "t5", version: "2" } };
    const pooled = msg({ id: "a", servedBy, reply: { text: "So sorry.", model: null, source: "pool" } });
    expect(formatServedBy(pooled)).toBe("answered by bert v3 · reply: what people answered to a similar message (t5 v2)");
    const written = msg({ id: "b", servedBy, reply: { text: "So sorry.", model: null, source: "model" } });
    expect(formatServedBy(written)).toBe("answered by bert v3 · reply by t5 v2");
    const refined = msg({ id: "c", servedBy, reply: { text: "So sorry.", model: null, source: "refined" } });
    expect(formatServedBy(refined)).toBe(
      "answered by bert v3 · reply by t5 v2, reworded from what people answered to a similar message",
    );
  });
  it("marks cold starts and copes with missing parts", () => {
    const m = msg({
      id: "a",
      model: "ensemble",
      timings: { fetchMs: null, classifyMs: null, generateMs: null, totalMs: 2100, coldStart: true },
    });
    expect(formatServedBy(m)).toBe("answered by ensemble · 2100 ms on the server (cold start)");
  });
});

describe("emotion display", () => {
  const e = { label: "joy", score: 0.93, scores: { joy: 0.93, sadness: 0.02, love: 0.03, anger: 0.01, fear: 0.005, surprise: 0.005 } };
  it("badge shows label and percent", () => {
    expect(formatEmotionBadge(e)).toBe("joy 93%");
    expect(formatEmotionBadge({ label: "fear", score: null, scores: { fear: 0.5 } })).toBe("fear 50%");
    expect(formatEmotionBadge({ label: "fear", score: null, scores: {} })).toBe("fear");
    // Under the model's calibrated threshold the badge claims no emotion.
    expect(formatEmotionBadge({ label: "anger", score: 0.31, scores: { anger: 0.31 }, unsure: true })).toBe(
      "not sure (maybe anger 31%)",
    );
  });
  it("bars come in the fixed label order with the top one marked", () => {
    const bars = emotionBars(e);
    expect(bars.map((b) => b.label)).toEqual(["sadness", "joy", "love", "anger", "fear", "surprise"]);
    expect(bars.find((b) => b.isTop)?.label).toBe("joy");
    expect(bars[1]).toMatchObject({ value: 0.93, percent: "93%" });
  });
  it("missing probabilities show as 0 and out-of-range values are clamped", () => {
    const bars = emotionBars({ label: "anger", score: 1, scores: { anger: 1.5 } });
    expect(bars.find((b) => b.label === "anger")?.value).toBe(0.015);
    expect(bars.find((b) => b.label === "joy")).toMatchObject({ value: 0, percent: "0%" });
  });
});

describe("times", () => {
  it("a message without server time shows as sending", () => {
    expect(formatMessageTime(null)).toBe("sending…");
    expect(formatMessageTime(Date.UTC(2026, 0, 1, 12, 5), "en-GB")).toMatch(/\d\d:\d\d/);
  });
  it("relative times for the conversation list", () => {
    const now = Date.UTC(2026, 10, 23, 12, 0);
    expect(formatRelative(now - 10_000, now)).toBe("just now");
    expect(formatRelative(now - 5 * 60_000, now)).toBe("5 min ago");
    expect(formatRelative(now - 3 * 3_600_000, now)).toBe("3 h ago");
    expect(formatRelative(now - 30 * 3_600_000, now)).toBe("yesterday");
    expect(formatRelative(now - 10 * 86_400_000, now, "en-GB")).toBe("13 Nov");
    expect(formatRelative(now + 5_000, now)).toBe("just now");
  });
});
