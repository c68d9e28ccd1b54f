// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { msg } from "../lib/fixtures";
import type { ChatMessage } from "../lib/types";
import { MessageItem } from "./MessageItem";

afterEach(cleanup);

const answered = (over: Partial<ChatMessage> = {}): ChatMessage =>
  msg({
    id: "m1",
    status: { state: "done", attempt: 1, updatedAtMs: 2_000 },
    reply: { text: "That sounds hard.", model: null },
    emotion: { label: "fear", score: 0.8, scores: { fear: 0.8, sadness: 0.2 } },
    ...over,
  });

function show(message: ChatMessage, over: Partial<Parameters<typeof MessageItem>[0]> = {}) {
  const props = {
    message,
    now: 10_000,
    timeoutMs: 30_000,
    onResend: vi.fn(() => Promise.resolve()),
    onEdit: vi.fn(),
    onFeedback: vi.fn(() => Promise.resolve()),
    onShare: vi.fn(() => Promise.resolve()),
    onReport: vi.fn(() => Promise.resolve()),
    online: true,
    ...over,
  };
  const view = render(<MessageItem {...props} />);
  return { ...view, props, again: (m: ChatMessage) => view.rerender(<MessageItem {...props} message={m} />) };
}

describe("Wrong emotion?", () => {
  it("offers every emotion but the detected one", () => {
    show(answered());
    fireEvent.click(screen.getByTestId("wrong-emotion"));
    const options = within(screen.getByTestId("feedback-select")).getAllByRole("option");
    const values = options.map((o) => (o as HTMLOptionElement).value).filter(Boolean);
    expect(values).toEqual(["sadness", "joy", "love", "anger", "surprise"]);
    expect(screen.getByTestId("feedback-select").textContent).not.toMatch(/fear/i);
  });

  it("lets a report be changed", async () => {
    const { props } = show(answered({ feedback: { label: "sadness", atMs: 3_000 } }));
    expect(screen.getByTestId("feedback-reported").textContent).toBe("Reported as sadness");
    fireEvent.click(screen.getByTestId("feedback-change"));
    const select = screen.getByTestId<HTMLSelectElement>("feedback-select");
    expect(select.value).toBe("sadness");
    expect(screen.getByTestId<HTMLButtonElement>("feedback-submit").disabled).toBe(true); // nothing changed yet
    fireEvent.change(select, { target: { value: "anger" } });
    fireEvent.click(screen.getByTestId("feedback-submit"));
    await vi.waitFor(() => expect(props.onFeedback).toHaveBeenCalledWith(expect.objectContaining({ id: "m1" }), "anger"));
  });

  it("closes on Escape, as on Cancel", () => {
    show(answered());
    fireEvent.click(screen.getByTestId("wrong-emotion"));
    fireEvent.keyDown(screen.getByTestId("feedback-select"), { key: "Escape" });
    expect(screen.queryByTestId("feedback-select")).toBeNull();
    expect(screen.getByTestId("wrong-emotion")).toBeTruthy();
  });
});

describe("Others felt this too", () => {
  const thought = { id: "t1", text: "i am scared of the dark", score: 0.9 };

  it("keeps the thank-you after a report, when the reported thought leaves the reply", async () => {
    const { props, again } = show(answered({ similar: [thought] }));
    fireEvent.click(screen.getByTestId("report-open"));
    fireEvent.change(screen.getByTestId("report-reason"), { target: { value: "offensive" } });
    fireEvent.click(screen.getByTestId("report-submit"));
    await screen.findByTestId("report-thanks");
    expect(props.onReport).toHaveBeenCalledWith("t1", "offensive");
    // The third report hides the thought: the function takes it off every reply that showed it.
    again(answered({ similar: [] }));
    expect(screen.getByTestId("report-thanks")).toBeTruthy();
    expect(screen.queryAllByTestId("similar-thought")).toHaveLength(0);
  });

  it("shows the same words once when two people shared them", () => {
    show(answered({ similar: [thought, { ...thought, id: "t2" }, { id: "t3", text: "storms frighten me", score: 0.7 }] }));
    const texts = screen.getAllByTestId("similar-thought").map((t) => t.querySelector("blockquote")?.textContent);
    expect(texts).toEqual(["i am scared of the dark", "storms frighten me"]);
  });
});

describe("offline", () => {
  const waiting = msg({ id: "m2", pendingWrite: true, createdAtMs: 9_000 });

  it("says a message written offline goes out when the connection is back", () => {
    show(waiting, { online: false });
    const typing = screen.getByTestId("typing");
    expect(typing.getAttribute("data-offline")).toBe("true");
    expect(typing.textContent).toMatch(/offline.*sent when the connection is back/i);
    expect(screen.queryByTestId("resend")).toBeNull();
  });

  it("says offline rather than taking longer, however long it waits", () => {
    show({ ...waiting, pendingWrite: false }, { online: false, now: 100_000 });
    expect(screen.getByTestId("typing").textContent).toMatch(/offline/i);
    expect(screen.getByTestId("typing").textContent).not.toMatch(/longer than usual/);
  });

  it("online, a long wait is still 'taking longer than usual'", () => {
    show({ ...waiting, pendingWrite: false }, { online: true, now: 100_000 });
    expect(screen.getByTestId("typing").getAttribute("data-overdue")).toBe("true");
  });
});

describe("a refused text", () => {
  const refused = msg({
    id: "m3",
    text: "hello\u0007 I feel sad",
    status: { state: "error", attempt: 1, updatedAtMs: 2_000 },
    error: { code: "invalid_text", message: "text contains control characters (U+0007)" },
  });

  it("offers to edit it, not to resend what would be refused again", () => {
    const { props } = show(refused);
    expect(screen.queryByTestId("resend")).toBeNull();
    fireEvent.click(screen.getByTestId("edit-text"));
    expect(props.onEdit).toHaveBeenCalledWith(refused);
  });

  it("other errors keep Resend", () => {
    show({ ...refused, error: { code: "model_unavailable", message: "try again later" } });
    expect(screen.getByTestId("resend")).toBeTruthy();
    expect(screen.queryByTestId("edit-text")).toBeNull();
  });
});
