// Expression coverage of firestore.rules from the Firestore emulator's JSON coverage report.
//
// The report (GET /emulator/v1/projects/<project>:ruleCoverage) lists only the expressions that
// were evaluated, as a tree of nodes with a source offset and the values they took. So the list of
// expressions that *should* be there comes from the rules source: every `allow ... if <condition>`
// and every function's `return <expression>`, split at `&&` and `||` (inside parentheses and `!` too)
// into its leaf conditions. A condition was evaluated when some report node starts inside it (its
// sub-expressions are evaluated only as part of it). Constant conditions (`true`, `false`) have
// nothing to evaluate and are not counted. A condition's outcomes are the boolean values recorded
// for the node spanning it, when the report has one.
//
// Usage: `node tests/rules/coverage.mjs [report.json]` prints the summary of a saved report.

import { readFileSync } from "node:fs";

const CONSTANT = /^(true|false)$/;

// Split `text` (starting at `offset` in the source) into top-level pieces at `&&` / `||`.
function splitTopLevel(text, offset) {
  const pieces = [];
  let depth = 0, quote = null, start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (depth === 0 && (text.startsWith("&&", i) || text.startsWith("||", i))) {
      pieces.push([text.slice(start, i), offset + start]);
      start = i + 2;
      i++;
    }
  }
  pieces.push([text.slice(start), offset + start]);
  return pieces;
}

// Does `text` start with "(" whose matching ")" is its last character?
function wrapped(text) {
  if (!text.startsWith("(") || !text.endsWith(")")) return false;
  let depth = 0, quote = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0 && i < text.length - 1) return false;
  }
  return true;
}

// Leaf conditions of an expression: {text, start, end} with offsets into the rules source.
function leaves(text, offset) {
  const lead = text.length - text.trimStart().length;
  const body = text.trim();
  const start = offset + lead;
  if (body.startsWith("!") && wrapped(body.slice(1).trim())) {
    const inner = body.slice(1).trimStart();
    return leaves(inner, start + body.length - inner.length);
  }
  if (wrapped(body)) return leaves(body.slice(1, -1), start + 1);
  const pieces = splitTopLevel(body, start);
  if (pieces.length === 1) return [{ text: body, start, end: start + body.length }];
  return pieces.flatMap(([piece, at]) => leaves(piece, at));
}

// Every condition in the rules: allow conditions and function return expressions.
export function conditions(source) {
  const found = [];
  const masked = source.replace(/\/\/[^\n]*/g, (m) => " ".repeat(m.length)); // comments out, offsets kept
  for (const m of masked.matchAll(/\ballow\s+[\w\s,]+:\s*if\b([^;]*);/g)) {
    const at = m.index + m[0].length - m[1].length - 1;
    found.push(...leaves(m[1], at));
  }
  for (const m of masked.matchAll(/\breturn\b([^;]*);/g)) {
    const at = m.index + m[0].length - m[1].length - 1;
    found.push(...leaves(m[1], at));
  }
  return found.filter((c) => !CONSTANT.test(c.text)).sort((a, b) => a.start - b.start);
}

function* nodes(list) {
  for (const node of list ?? []) {
    yield node;
    yield* nodes(node.children);
  }
}

function lineCol(source, offset) {
  const before = source.slice(0, offset).split("\n");
  return `${before.length}:${before.at(-1).length + 1}`;
}

// Coverage of `report` (the parsed JSON): {total, hit, missed, bothOutcomes, summary}.
export function ruleCoverage(report) {
  const source = report.rules.files[0].content;
  const evaluated = [];
  for (const node of nodes(report.report)) {
    const count = (node.values ?? []).reduce((sum, v) => sum + (v.count ?? 0), 0);
    if (count > 0) evaluated.push(node);
  }
  const all = conditions(source);
  const missed = [], oneSided = [];
  for (const c of all) {
    const inside = evaluated.filter((n) => {
      const at = n.sourcePosition.currentOffset;
      return at >= c.start && at < c.end;
    });
    if (!inside.length) {
      missed.push(`${lineCol(source, c.start)} ${c.text.replace(/\s+/g, " ")}`);
      continue;
    }
    // The widest node spanning just this condition (it may start at an opening parenthesis before
    // it; a node reaching past its end is a parent such as `a && b`): its values are the outcomes.
    let from = c.start;
    while (from > 0 && /[\s(]/.test(source[from - 1])) from--;
    const outer = evaluated
      .filter((n) => {
        const { currentOffset: at, endOffset: end } = n.sourcePosition;
        return at >= from && at <= c.start && end < c.end;
      })
      .sort((a, b) => b.sourcePosition.endOffset - a.sourcePosition.endOffset)[0];
    const outcomes = new Set((outer?.values ?? []).filter((v) => "boolValue" in (v.value ?? {})).map((v) => v.value.boolValue));
    if (outcomes.size < 2) oneSided.push(`${lineCol(source, c.start)} ${c.text.replace(/\s+/g, " ")} (${[...outcomes].join("/") || "no boolean value"})`);
  }
  const hit = all.length - missed.length;
  const summary =
    `firestore.rules coverage: ${hit}/${all.length} conditions evaluated` +
    ` (${all.length - oneSided.length - missed.length}/${all.length} seen both true and false;` +
    ` ${evaluated.length} expression nodes in the report)`;
  return { total: all.length, hit, missed, oneSided, summary };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? "test-results/firestore-rules-coverage.json";
  const result = ruleCoverage(JSON.parse(readFileSync(file, "utf8")));
  console.log(result.summary);
  for (const m of result.missed) console.log(`  never evaluated: ${m}`);
  for (const m of result.oneSided) console.log(`  one outcome only: ${m}`);
  process.exitCode = result.missed.length ? 1 : 0;
}
