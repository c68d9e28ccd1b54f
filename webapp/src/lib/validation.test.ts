import { describe, expect, it } from "vitest";
// Read as text and parsed here: the lone surrogates of some cases are beyond the bundler's JSON reader.
import specText from "../../../tests/contract/message_text.json?raw";
import { MAX_MESSAGE_LENGTH, formatCounter, isSendKey, validateMessage } from "./validation";

// The cases the function's contract is held to as well (tests/unit/test_message_text_agreement.py).
interface TextCase {
  name: string;
  ok: boolean;
  text?: string;
  repeat?: string;
  times?: number;
  suffix?: string;
}

const spec = JSON.parse(specText) as { maxLength: number; refusedCodePointRanges: [number, number][]; cases: TextCase[] };

function caseText(c: TextCase): string {
  return c.text ?? (c.repeat ?? "").repeat(c.times ?? 0) + (c.suffix ?? "");
}

describe("the composer and the function's contract agree", () => {
  it("has the contract's length limit", () => {
    expect(MAX_MESSAGE_LENGTH).toBe(spec.maxLength);
  });

  it.each(spec.cases)("$name", (c) => {
    expect(validateMessage(caseText(c)).ok).toBe(c.ok);
  });

  it("refuses exactly the characters the contract refuses", () => {
    const refused = new Set<number>();
    for (const [low, high] of spec.refusedCodePointRanges) for (let cp = low; cp <= high; cp++) refused.add(cp);
    const disagree: string[] = [];
    for (let cp = 0; cp < 0x10000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue; // surrogates: the cases above
      if (validateMessage(`a${String.fromCharCode(cp)}b`).ok === refused.has(cp)) disagree.push(cp.toString(16));
    }
    expect(disagree).toEqual([]);
  });

  it("names a refused control character with the words it uses for lone surrogates", () => {
    const bell = validateMessage("hello\u0007 I feel sad");
    expect(bell).toMatchObject({ ok: false, problem: "invalid-characters" });
    expect(bell.message).toBe("Message contains invalid characters (U+0007); remove them to send.");
    expect(validateMessage("abc\uD83D").message).toBe("Message contains invalid characters (U+D83D); remove them to send.");
  });
});

describe("validateMessage", () => {
  it("accepts ordinary text and returns it trimmed", () => {
    const r = validateMessage("  hello there \n");
    expect(r).toMatchObject({ ok: true, text: "hello there", length: 11, problem: null, message: null });
  });

  it("rejects empty and whitespace-only text", () => {
    for (const t of ["", "   ", "\n\t \n"]) {
      const r = validateMessage(t);
      expect(r.ok).toBe(false);
      expect(r.problem).toBe("empty");
      expect(r.length).toBe(0);
      expect(r.message).toMatch(/type a message/i);
    }
  });

  it("accepts exactly 1 and exactly 2000 characters", () => {
    expect(validateMessage("a").ok).toBe(true);
    expect(validateMessage("a".repeat(MAX_MESSAGE_LENGTH)).ok).toBe(true);
  });

  it("rejects 2001 characters with a message saying by how much", () => {
    const r = validateMessage("a".repeat(2001));
    expect(r.ok).toBe(false);
    expect(r.problem).toBe("too-long");
    expect(r.message).toContain("2001/2000");
    expect(r.message).toContain("remove 1");
  });

  it("does not count surrounding whitespace against the limit", () => {
    const r = validateMessage(`   ${"b".repeat(2000)}   `);
    expect(r.ok).toBe(true);
    expect(r.length).toBe(2000);
  });

  it("counts UTF-16 code units like the rules (an emoji is 2)", () => {
    expect(validateMessage("😀").length).toBe(2);
    expect(validateMessage("😀".repeat(1000)).ok).toBe(true);
    const r = validateMessage("😀".repeat(1000) + "a");
    expect(r.ok).toBe(false);
    expect(r.length).toBe(2001);
    expect(validateMessage("é").length).toBe(1);
  });

  it("rejects lone surrogates (not encodable as UTF-8)", () => {
    expect(validateMessage("abc\uD83D").problem).toBe("invalid-characters");
    expect(validateMessage("\uDE00abc").problem).toBe("invalid-characters");
    expect(validateMessage("ok \uD83D\uDE00").ok).toBe(true);
  });
});

describe("formatCounter", () => {
  it("shows length over the maximum", () => {
    expect(formatCounter(0)).toBe("0/2000");
    expect(formatCounter(123)).toBe("123/2000");
    expect(formatCounter(2001)).toBe("2001/2000");
  });
});

describe("isSendKey", () => {
  it("Enter sends, Shift+Enter does not", () => {
    expect(isSendKey({ key: "Enter", shiftKey: false })).toBe(true);
    expect(isSendKey({ key: "Enter", shiftKey: true })).toBe(false);
    expect(isSendKey({ key: "a", shiftKey: false })).toBe(false);
  });

  it("does not send while an IME composition is active", () => {
    expect(isSendKey({ key: "Enter", shiftKey: false, isComposing: true })).toBe(false);
    expect(isSendKey({ key: "Enter", shiftKey: false, keyCode: 229 })).toBe(false);
  });
});
