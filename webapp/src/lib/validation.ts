/** Limits mirrored from the security rules and the function (`text.size()` in rules = UTF-16 code units). */
export const MAX_MESSAGE_LENGTH = 2000;
export const MIN_MESSAGE_LENGTH = 1;

export type ValidationProblem = "empty" | "too-long" | "invalid-characters";

export interface ValidationResult {
  ok: boolean;
  /** The text that would be sent (trimmed). */
  text: string;
  /** Its length in UTF-16 code units, as the rules count it. */
  length: number;
  problem: ValidationProblem | null;
  /** A human-readable explanation, or null when the text is valid. */
  message: string | null;
}

// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one:
// such strings are not valid UTF-8 and the backend would reject them.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Control characters (Unicode category Cc) other than tab, line feed and carriage return: the
// function's contract refuses them (they hide content), so the composer refuses them first.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** "U+0007": how a refused character is named to the user. */
function codePointName(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

export function validateMessage(raw: string): ValidationResult {
  const text = raw.trim();
  const length = text.length;
  if (length < MIN_MESSAGE_LENGTH) {
    return { ok: false, text, length, problem: "empty", message: "Type a message to send." };
  }
  if (length > MAX_MESSAGE_LENGTH) {
    const over = length - MAX_MESSAGE_LENGTH;
    return {
      ok: false,
      text,
      length,
      problem: "too-long",
      message: `Message is too long: ${length}/${MAX_MESSAGE_LENGTH} characters (remove ${over}).`,
    };
  }
  const bad = LONE_SURROGATE.exec(text) ?? CONTROL.exec(text);
  if (bad) {
    return {
      ok: false,
      text,
      length,
      problem: "invalid-characters",
      message: `Message contains invalid characters (${codePointName(bad[0])}); remove them to send.`,
    };
  }
  return { ok: true, text, length, problem: null, message: null };
}

/** The live counter shown under the composer, e.g. "123/2000". */
export function formatCounter(length: number, max: number = MAX_MESSAGE_LENGTH): string {
  return `${length}/${max}`;
}

/** Whether a keydown in the composer should send (Enter without Shift, not while composing with an IME). */
export function isSendKey(e: { key: string; shiftKey: boolean; isComposing?: boolean; keyCode?: number }): boolean {
  if (e.key !== "Enter" || e.shiftKey) return false;
  // keyCode 229 is reported by some browsers while an IME composition is active.
  if (e.isComposing || e.keyCode === 229) return false;
  return true;
}
