import { describe, expect, it } from "vitest";
import { UNGROUPED, groupConversations, newConversationId, resolveSelection, sortMessages, titleFromText } from "./conversations";
import { msg } from "./fixtures";

describe("sortMessages", () => {
  it("orders by createdAt and puts unstamped (pending) messages last in arrival order", () => {
    const sorted = sortMessages([
      msg({ id: "p1", createdAtMs: null }),
      msg({ id: "b", createdAtMs: 2000 }),
      msg({ id: "p2", createdAtMs: null }),
      msg({ id: "a", createdAtMs: 1000 }),
    ]);
    expect(sorted.map((m) => m.id)).toEqual(["a", "b", "p1", "p2"]);
  });

  it("is stable for equal timestamps", () => {
    const sorted = sortMessages([msg({ id: "x", createdAtMs: 5 }), msg({ id: "y", createdAtMs: 5 })]);
    expect(sorted.map((m) => m.id)).toEqual(["x", "y"]);
  });
});

describe("groupConversations", () => {
  const messages = [
    msg({ id: "1", conversationId: "old", text: "First of old", createdAtMs: 1000 }),
    msg({ id: "2", conversationId: "new", text: "First of new", createdAtMs: 3000 }),
    msg({ id: "3", conversationId: "old", text: "Second of old", createdAtMs: 2000 }),
    msg({ id: "4", conversationId: "new", text: "Second of new", createdAtMs: 4000 }),
  ];

  it("groups by conversationId, newest activity first, titled by the first message", () => {
    const convs = groupConversations(messages, 10_000);
    expect(convs.map((c) => c.id)).toEqual(["new", "old"]);
    expect(convs[0].title).toBe("First of new");
    expect(convs[1].title).toBe("First of old");
    expect(convs[1].messages.map((m) => m.id)).toEqual(["1", "3"]);
    expect(convs[0].startedAtMs).toBe(3000);
    expect(convs[0].lastActivityMs).toBe(4000);
  });

  it("moves a conversation to the top when it gets a new message", () => {
    const convs = groupConversations([...messages, msg({ id: "5", conversationId: "old", createdAtMs: 5000 })], 10_000);
    expect(convs.map((c) => c.id)).toEqual(["old", "new"]);
    expect(convs[0].title).toBe("First of old");
  });

  it("treats a pending write (no server time) as the newest activity", () => {
    const convs = groupConversations([...messages, msg({ id: "p", conversationId: "old", createdAtMs: null, pendingWrite: true })], 10_000);
    expect(convs[0].id).toBe("old");
    expect(convs[0].lastActivityMs).toBe(10_000);
    expect(convs[0].messages.at(-1)?.id).toBe("p");
  });

  it("a brand-new conversation whose only message is pending still shows up first", () => {
    const convs = groupConversations([...messages, msg({ id: "p", conversationId: "fresh", text: "Hi", createdAtMs: null })], 10_000);
    expect(convs[0]).toMatchObject({ id: "fresh", title: "Hi" });
  });

  it("collects messages without conversationId in one group", () => {
    const convs = groupConversations([msg({ id: "m", conversationId: null, text: "from the phone" })]);
    expect(convs).toHaveLength(1);
    expect(convs[0]).toMatchObject({ id: UNGROUPED, title: "from the phone" });
  });

  it("returns nothing for no messages", () => {
    expect(groupConversations([])).toEqual([]);
  });
});

describe("titleFromText", () => {
  it("collapses whitespace", () => {
    expect(titleFromText("  hello\n\n  world  ")).toBe("hello world");
  });

  it("cuts long text at a word boundary with an ellipsis", () => {
    const t = titleFromText("I have been feeling really quite anxious about the presentation at work tomorrow morning", 40);
    expect(t.endsWith("…")).toBe(true);
    expect(t.length).toBeLessThanOrEqual(41);
    expect(t).toBe("I have been feeling really quite anxious…");
    expect(titleFromText("I have been feeling really quite anxious about it", 38)).toBe("I have been feeling really quite…");
  });

  it("cuts a long word hard, never splitting a surrogate pair", () => {
    expect(titleFromText("a".repeat(100), 10)).toBe("a".repeat(10) + "…");
    const t = titleFromText("a".repeat(9) + "😀😀", 10);
    expect(t).toBe("a".repeat(9) + "…");
  });

  it("has a fallback for empty text", () => {
    expect(titleFromText("   ")).toBe("Untitled conversation");
  });
});

describe("resolveSelection", () => {
  const convs = groupConversations([
    msg({ id: "1", conversationId: "a", createdAtMs: 1 }),
    msg({ id: "2", conversationId: "b", createdAtMs: 2 }),
  ]);
  it("keeps an existing selection", () => {
    expect(resolveSelection("a", convs, null)).toBe("a");
  });
  it("keeps an empty draft selected", () => {
    expect(resolveSelection("draft", convs, "draft")).toBe("draft");
  });
  it("keeps a conversation opened from the list when newer messages push it out of the recent ones", () => {
    expect(resolveSelection("old", convs, null, "old")).toBe("old");
  });
  it("falls back to the most recent conversation", () => {
    expect(resolveSelection("gone", convs, null)).toBe("b");
    expect(resolveSelection(null, convs, null)).toBe("b");
  });
  it("returns null when there is nothing", () => {
    expect(resolveSelection(null, [], null)).toBeNull();
  });
});

describe("newConversationId", () => {
  it("makes distinct UUID-shaped ids", () => {
    const a = newConversationId();
    const b = newConversationId();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
