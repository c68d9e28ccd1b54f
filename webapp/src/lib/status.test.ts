import { describe, expect, it } from "vitest";
import { msg } from "./fixtures";
import { DEFAULT_PENDING_TIMEOUT_MS, effectiveState, isOverdue, msUntilOverdue, parseTimeoutMs, waitingForMs } from "./status";

const st = (state: "pending" | "processing" | "done" | "error") => ({ state, attempt: 1, updatedAtMs: 0 });

describe("effectiveState", () => {
  it("no status yet counts as pending", () => {
    expect(effectiveState(msg({ id: "a" }))).toBe("pending");
  });
  it("follows status.state", () => {
    expect(effectiveState(msg({ id: "a", status: st("pending") }))).toBe("pending");
    expect(effectiveState(msg({ id: "a", status: st("processing") }))).toBe("processing");
    expect(effectiveState(msg({ id: "a", status: st("done"), reply: { text: "hi", model: null } }))).toBe("done");
    expect(effectiveState(msg({ id: "a", status: st("error"), error: { code: "internal", message: "x" } }))).toBe("error");
  });
  it("an error field without a done status is an error", () => {
    expect(effectiveState(msg({ id: "a", error: { code: "unknown_model", message: "nope" } }))).toBe("error");
    expect(effectiveState(msg({ id: "a", status: st("processing"), error: { code: "internal", message: "x" } }))).toBe("error");
  });
  it("a reply without any status counts as done", () => {
    expect(effectiveState(msg({ id: "a", reply: { text: "hi", model: null } }))).toBe("done");
  });
});

describe("pending timeout", () => {
  const created = 100_000;
  const pending = msg({ id: "p", createdAtMs: created });

  it("defaults to 30 s", () => {
    expect(DEFAULT_PENDING_TIMEOUT_MS).toBe(30_000);
  });

  it("is not overdue before the timeout and overdue at it", () => {
    expect(isOverdue(pending, created + 29_999)).toBe(false);
    expect(isOverdue(pending, created + 30_000)).toBe(true);
    expect(isOverdue(msg({ id: "q", createdAtMs: created, status: st("processing") }), created + 45_000)).toBe(true);
  });

  it("honours a configured timeout", () => {
    expect(isOverdue(pending, created + 2_000, 2_000)).toBe(true);
    expect(isOverdue(pending, created + 1_999, 2_000)).toBe(false);
  });

  it("answered and failed messages are never overdue", () => {
    const done = msg({ id: "d", createdAtMs: created, status: st("done"), reply: { text: "ok", model: null } });
    const failed = msg({ id: "e", createdAtMs: created, status: st("error"), error: { code: "internal", message: "x" } });
    expect(isOverdue(done, created + 1e9)).toBe(false);
    expect(isOverdue(failed, created + 1e9)).toBe(false);
    expect(msUntilOverdue(done, created)).toBeNull();
  });

  it("measures a pending local write (no server time) from when it was first seen", () => {
    const local = msg({ id: "l", createdAtMs: null, pendingWrite: true });
    expect(waitingForMs(local, 50_000, 40_000)).toBe(10_000);
    expect(isOverdue(local, 50_000, 30_000, 40_000)).toBe(false);
    expect(isOverdue(local, 70_000, 30_000, 40_000)).toBe(true);
    // Without any reference it has just started waiting.
    expect(waitingForMs(local, 50_000)).toBe(0);
  });

  it("never reports negative waiting time (client clock behind the server)", () => {
    expect(waitingForMs(pending, created - 5_000)).toBe(0);
  });

  it("tells how long until overdue", () => {
    expect(msUntilOverdue(pending, created + 10_000)).toBe(20_000);
    expect(msUntilOverdue(pending, created + 40_000)).toBe(0);
  });
});

describe("parseTimeoutMs", () => {
  it("parses positive numbers and falls back otherwise", () => {
    expect(parseTimeoutMs("5000")).toBe(5000);
    expect(parseTimeoutMs(" 1500 ")).toBe(1500);
    expect(parseTimeoutMs(undefined)).toBe(30_000);
    expect(parseTimeoutMs("")).toBe(30_000);
    expect(parseTimeoutMs("abc")).toBe(30_000);
    expect(parseTimeoutMs("-1")).toBe(30_000);
    expect(parseTimeoutMs("0", 7)).toBe(7);
  });
});
