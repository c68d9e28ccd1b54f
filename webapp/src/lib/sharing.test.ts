import { describe, expect, it } from "vitest";
import { msg } from "./fixtures";
import {
  NOTHING_REPORTED,
  REPORT_REASONS,
  isReportReason,
  shareState,
  shareStatusText,
  shareSwitch,
  similarityText,
  visibleSimilar,
  withReport,
  type ShareState,
} from "./sharing";

const done = { status: { state: "done" as const, attempt: 1, updatedAtMs: 2 }, reply: { text: "hi", model: null } };

describe("shareState", () => {
  it("is off unless the owner asked", () => {
    expect(shareState(msg({ id: "a", ...done }))).toBe("off");
  });

  it("follows the owner's wish and the function's progress", () => {
    expect(shareState(msg({ id: "a", share: true }))).toBe("waiting");
    expect(shareState(msg({ id: "a", share: true, ...done }))).toBe("sharing");
    expect(shareState(msg({ id: "a", share: true, sharedThoughtId: "t1", ...done }))).toBe("shared");
    expect(shareState(msg({ id: "a", share: false, sharedThoughtId: "t1", ...done }))).toBe("stopping");
  });

  it("knows when there is nothing to share, or sharing is over", () => {
    const failed = { status: { state: "error" as const, attempt: 1, updatedAtMs: 2 }, error: { code: "x", message: "y" } };
    expect(shareState(msg({ id: "a", share: true, ...failed }))).toBe("unavailable");
    expect(shareState(msg({ id: "a", share: true, sharedThoughtId: "t1", shareBlocked: true, ...done }))).toBe("hidden");
    expect(shareState(msg({ id: "a", share: true, shareBlocked: true, ...done }))).toBe("hidden");
  });
});

describe("shareSwitch and shareStatusText", () => {
  const states: ShareState[] = ["off", "waiting", "sharing", "shared", "stopping", "hidden", "unavailable"];

  it("shows the wish, and locks only what cannot change", () => {
    expect(states.map((s) => shareSwitch(s).on)).toEqual([false, true, true, true, false, false, false]);
    expect(states.filter((s) => !shareSwitch(s).enabled)).toEqual(["hidden", "unavailable"]);
  });

  it("has a sentence for every state, and promises anonymity when shared", () => {
    for (const s of states) expect(shareStatusText(s).length).toBeGreaterThan(10);
    expect(shareStatusText("shared")).toMatch(/never who wrote it/);
  });
});

describe("reports", () => {
  it("offers exactly the reasons the rules accept", () => {
    expect(REPORT_REASONS.map((r) => r.value).sort()).toEqual(["harmful", "offensive", "other", "personal_information", "spam"]);
    expect(isReportReason("spam")).toBe(true);
    expect(isReportReason("boring")).toBe(false);
    expect(isReportReason(undefined)).toBe(false);
  });

  it("hides what this user reported", () => {
    const similar = [
      { id: "t1", text: "a", score: 0.9 },
      { id: "t2", text: "b", score: 0.8 },
    ];
    expect(visibleSimilar(similar, withReport(NOTHING_REPORTED, similar[0])).map((t) => t.id)).toEqual(["t2"]);
    expect(visibleSimilar(null)).toEqual([]);
  });
});

describe("visibleSimilar shows each text once", () => {
  it("keeps the closest of thoughts with the same words (case and spacing aside)", () => {
    const similar = [
      { id: "t1", text: "I miss my dog so much", score: 0.95 },
      { id: "t2", text: "i miss my  dog so much ", score: 0.95 },
      { id: "t3", text: "my cat is gone", score: 0.7 },
    ];
    expect(visibleSimilar(similar).map((t) => t.id)).toEqual(["t1", "t3"]);
  });

  it("does not bring the same words back from someone else once reported", () => {
    const similar = [
      { id: "t1", text: "same words", score: 0.9 },
      { id: "t2", text: "same words", score: 0.9 },
      { id: "t3", text: "other words", score: 0.5 },
    ];
    const reported = withReport(NOTHING_REPORTED, similar[0]);
    expect(visibleSimilar(similar, reported).map((t) => t.id)).toEqual(["t3"]);
    // Still so when the reported thought itself has left the list (hidden after reports).
    expect(visibleSimilar(similar.slice(1), reported).map((t) => t.id)).toEqual(["t3"]);
  });
});

describe("similarityText", () => {
  it("reads a cosine as a percentage", () => {
    expect(similarityText(0.914)).toBe("91% similar");
    expect(similarityText(1.2)).toBe("100% similar");
    expect(similarityText(null)).toBe("similar");
  });
});
