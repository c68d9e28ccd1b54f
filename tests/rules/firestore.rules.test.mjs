// Security rules, table-driven: every case is one allow/deny expectation against the emulator.
// Runs under `firebase emulators:exec` (scripts/test.sh), which sets FIRESTORE_EMULATOR_HOST.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import {
  assertFails, assertSucceeds, initializeTestEnvironment,
} from "@firebase/rules-unit-testing";
import {
  collection, deleteDoc, doc, getDoc, getDocs, serverTimestamp, setDoc, setLogLevel, Timestamp, updateDoc, query, where,
} from "firebase/firestore";
import { ruleCoverage } from "./coverage.mjs";

setLogLevel("silent"); // denials are the expected outcome of half the cases

const PROJECT = "demo-machbot-rules"; // its own project id: rules tests never touch the pipeline's data
let env;

before(async () => {
  const [host, port] = process.env.FIRESTORE_EMULATOR_HOST.split(":");
  env = await initializeTestEnvironment({
    projectId: PROJECT,
    firestore: { rules: readFileSync("firestore.rules", "utf8"), host, port: Number(port) },
  });
});

after(async () => {
  // Save the rules coverage report next to the other test outputs, then clean up.
  const host = process.env.FIRESTORE_EMULATOR_HOST;
  const res = await fetch(`http://${host}/emulator/v1/projects/${PROJECT}:ruleCoverage.html`);
  mkdirSync("test-results", { recursive: true });
  writeFileSync("test-results/firestore-rules-coverage.html", await res.text());
  await env.cleanup();
});

beforeEach(async () => {
  await env.clearFirestore();
  await env.withSecurityRulesDisabled(async (ctx) => {
    const db = ctx.firestore();
    await setDoc(doc(db, "users/alice/messages/done1"), {
      text: "hi", model: "bert", createdAt: Timestamp.now(), status: { state: "done", attempt: 1 },
      emotion: { label: "joy", score: 0.9 }, reply: { text: "hello" },
    });
    await setDoc(doc(db, "users/alice/messages/pending1"), { text: "hi", model: "bert", createdAt: Timestamp.now() });
    await setDoc(doc(db, "users/alice"), { preferredModel: "bert" });
    await setDoc(doc(db, "thoughts/t1"), { text: "i miss home", emotion: "sadness", hidden: false });
    await setDoc(doc(db, "thoughts/gone"), { text: "hidden after reports", emotion: "anger", hidden: true });
    await setDoc(doc(db, "thoughts/t1/reports/carol"), { reason: "spam", at: Timestamp.now() });
    await setDoc(doc(db, "thoughtIndex/t1"), { owner: "alice", message: "users/alice/messages/done1", active: true });
    await setDoc(doc(db, "models/bert"), { id: "bert", version: "v1" });
  });
});

const alice = () => env.authenticatedContext("alice").firestore();
const bob = () => env.authenticatedContext("bob").firestore();
const carol = () => env.authenticatedContext("carol").firestore();
const anon = () => env.unauthenticatedContext().firestore();
const msg = (extra = {}) => ({ text: "hello there", model: "bert", createdAt: serverTimestamp(), ...extra });
const newMsg = (db, data) => setDoc(doc(db, `users/alice/messages/m${Math.random().toString(36).slice(2)}`), data);
const fb = (label = "anger") => ({ feedback: { label, at: serverTimestamp() } });
const report = (db, reporter, thought = "t1", data = { reason: "spam", at: serverTimestamp() }) =>
  setDoc(doc(db, `thoughts/${thought}/reports/${reporter}`), data);

const cases = [
  // --- creating messages ---
  ["owner creates a valid message", true, () => newMsg(alice(), msg())],
  ["owner creates with a conversationId", true, () => newMsg(alice(), msg({ conversationId: "conv_1-a" }))],
  ["owner creates a 2000-character message", true, () => newMsg(alice(), msg({ text: "a".repeat(2000) }))],
  ["owner creates with model 'ensemble'", true, () => newMsg(alice(), msg({ model: "ensemble" }))],
  ["unauthenticated create", false, () => newMsg(anon(), msg())],
  ["another user creates in alice's messages", false, () => newMsg(bob(), msg())],
  ["empty text", false, () => newMsg(alice(), msg({ text: "" }))],
  ["whitespace-only text", false, () => newMsg(alice(), msg({ text: "  \n\t " }))],
  ["2001-character text", false, () => newMsg(alice(), msg({ text: "a".repeat(2001) }))],
  ["text is a number", false, () => newMsg(alice(), msg({ text: 42 }))],
  ["text is a map", false, () => newMsg(alice(), msg({ text: { html: "<b>" } }))],
  ["model missing", false, () => newMsg(alice(), { text: "hi", createdAt: serverTimestamp() })],
  ["model is a number", false, () => newMsg(alice(), msg({ model: 7 }))],
  ["model id with path characters", false, () => newMsg(alice(), msg({ model: "../bert" }))],
  ["model id in upper case", false, () => newMsg(alice(), msg({ model: "BERT" }))],
  ["createdAt missing", false, () => newMsg(alice(), { text: "hi", model: "bert" })],
  ["createdAt forged in the past", false, () => newMsg(alice(), msg({ createdAt: Timestamp.fromMillis(0) }))],
  ["createdAt as a string", false, () => newMsg(alice(), msg({ createdAt: "2026-01-01" }))],
  ["extra unknown field", false, () => newMsg(alice(), msg({ admin: true }))],
  ["forged status on create", false, () => newMsg(alice(), msg({ status: { state: "done" } }))],
  ["forged reply on create", false, () => newMsg(alice(), msg({ reply: { text: "I am the bot" } }))],
  ["forged emotion on create", false, () => newMsg(alice(), msg({ emotion: { label: "joy" } }))],
  ["forged error on create", false, () => newMsg(alice(), msg({ error: { code: "x" } }))],
  ["feedback on create", false, () => newMsg(alice(), msg(fb()))],
  ["conversationId too long", false, () => newMsg(alice(), msg({ conversationId: "c".repeat(129) }))],
  ["conversationId with a slash", false, () => newMsg(alice(), msg({ conversationId: "a/b" }))],
  ["conversationId is a number", false, () => newMsg(alice(), msg({ conversationId: 5 }))],
  ["owner creates a message to share", true, () => newMsg(alice(), msg({ share: true }))],
  ["owner creates a message not to share", true, () => newMsg(alice(), msg({ share: false }))],
  ["share as a string", false, () => newMsg(alice(), msg({ share: "yes" }))],
  ["forged sharedThought on create", false, () => newMsg(alice(), msg({ share: true, sharedThought: { id: "t1" } }))],
  ["forged similar thoughts on create", false, () => newMsg(alice(), msg({ similar: [{ id: "t1", text: "x", score: 1 }] }))],
  // --- reading ---
  ["owner reads own message", true, () => getDoc(doc(alice(), "users/alice/messages/done1"))],
  ["owner lists own messages", true, () => getDocs(collection(alice(), "users/alice/messages"))],
  ["another user reads alice's message", false, () => getDoc(doc(bob(), "users/alice/messages/done1"))],
  ["another user lists alice's messages", false, () => getDocs(collection(bob(), "users/alice/messages"))],
  ["unauthenticated list", false, () => getDocs(collection(anon(), "users/alice/messages"))],
  ["a query across all users", false, () => getDocs(query(collection(alice(), "users/bob/messages"), where("model", "==", "bert")))],
  // --- updating ---
  ["owner reports a wrong emotion on a done message", true, () => updateDoc(doc(alice(), "users/alice/messages/done1"), fb())],
  ["feedback on a message not yet answered", false, () => updateDoc(doc(alice(), "users/alice/messages/pending1"), fb())],
  ["feedback with an unknown label", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), fb("boredom"))],
  ["feedback with a forged time", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { feedback: { label: "joy", at: Timestamp.fromMillis(0) } })],
  ["feedback without a time", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { feedback: { label: "joy" } })],
  ["feedback with extra keys", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { feedback: { label: "joy", at: serverTimestamp(), by: "x" } })],
  ["feedback as a string", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { feedback: "joy" })],
  ["owner shares an answered message", true, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { share: true })],
  ["owner stops sharing a message", true, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { share: false })],
  ["owner shares a message not yet answered", true, () => updateDoc(doc(alice(), "users/alice/messages/pending1"), { share: true })],
  ["share update that is not a boolean", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { share: 1 })],
  ["share plus feedback in one update", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { share: true, ...fb() })],
  ["share plus a forged sharedThought", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { share: true, sharedThought: { id: "t9" } })],
  ["owner clears shareBlocked", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { shareBlocked: false })],
  ["another user shares alice's message", false, () => updateDoc(doc(bob(), "users/alice/messages/done1"), { share: true })],
  ["owner edits text after sending", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { text: "edited" })],
  ["owner forges status", false, () => updateDoc(doc(alice(), "users/alice/messages/pending1"), { status: { state: "done" } })],
  ["owner forges a reply", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { reply: { text: "x" } })],
  ["feedback plus a forged field", false, () => updateDoc(doc(alice(), "users/alice/messages/done1"), { ...fb(), emotion: { label: "anger" } })],
  ["another user reports feedback", false, () => updateDoc(doc(bob(), "users/alice/messages/done1"), fb())],
  ["owner deletes a message", false, () => deleteDoc(doc(alice(), "users/alice/messages/done1"))],
  // --- preferences ---
  ["owner saves a preferred model", true, () => setDoc(doc(alice(), "users/alice"), { preferredModel: "roberta" })],
  ["owner reads own preferences", true, () => getDoc(doc(alice(), "users/alice"))],
  ["another user reads alice's preferences", false, () => getDoc(doc(bob(), "users/alice"))],
  ["preferences with an extra field", false, () => setDoc(doc(alice(), "users/alice"), { preferredModel: "bert", role: "admin" })],
  ["preferences with a bad model id", false, () => setDoc(doc(alice(), "users/alice"), { preferredModel: "Bad Id" })],
  ["another user writes alice's preferences", false, () => setDoc(doc(bob(), "users/alice"), { preferredModel: "bert" })],
  // --- the shared pool ---
  ["signed-in user reads a shared thought", true, () => getDoc(doc(bob(), "thoughts/t1"))],
  ["signed-in user lists the thoughts that are not hidden", true, () => getDocs(query(collection(bob(), "thoughts"), where("hidden", "==", false)))],
  ["unauthenticated read of a shared thought", false, () => getDoc(doc(anon(), "thoughts/t1"))],
  ["signed-in user reads a hidden thought", false, () => getDoc(doc(bob(), "thoughts/gone"))],
  ["signed-in user lists every thought, hidden ones too", false, () => getDocs(collection(bob(), "thoughts"))],
  ["signed-in user adds a thought to the pool", false, () => setDoc(doc(bob(), "thoughts/new"), { text: "hi", emotion: "joy", hidden: false })],
  ["signed-in user edits a shared thought", false, () => updateDoc(doc(bob(), "thoughts/t1"), { text: "edited" })],
  ["signed-in user unhides a thought", false, () => updateDoc(doc(bob(), "thoughts/gone"), { hidden: false })],
  ["signed-in user deletes a shared thought", false, () => deleteDoc(doc(bob(), "thoughts/t1"))],
  ["author deletes their shared thought directly", false, () => deleteDoc(doc(alice(), "thoughts/t1"))],
  ["signed-in user reads the author index", false, () => getDoc(doc(alice(), "thoughtIndex/t1"))],
  ["signed-in user lists the author index", false, () => getDocs(collection(bob(), "thoughtIndex"))],
  ["signed-in user writes the author index", false, () => setDoc(doc(bob(), "thoughtIndex/t2"), { owner: "bob" })],
  // --- reports ---
  ["signed-in user reports a thought", true, () => report(bob(), "bob")],
  ["a report about personal information", true, () => report(alice(), "alice", "t1", { reason: "personal_information", at: serverTimestamp() })],
  ["a report with an unknown reason", false, () => report(bob(), "bob", "t1", { reason: "boring", at: serverTimestamp() })],
  ["a report without a time", false, () => report(bob(), "bob", "t1", { reason: "spam" })],
  ["a report with a forged time", false, () => report(bob(), "bob", "t1", { reason: "spam", at: Timestamp.fromMillis(0) })],
  ["a report with extra fields", false, () => report(bob(), "bob", "t1", { reason: "spam", at: serverTimestamp(), uid: "bob" })],
  ["a report in another user's name", false, () => report(bob(), "alice")],
  ["an unauthenticated report", false, () => report(anon(), "bob")],
  ["a report on a thought that is not shared", false, () => report(bob(), "bob", "nothing")],
  ["a report on a hidden thought", false, () => report(bob(), "bob", "gone")],
  ["a second report by the same user", false, () => report(carol(), "carol")],
  ["reporter reads their own report", true, () => getDoc(doc(carol(), "thoughts/t1/reports/carol"))],
  ["another user reads someone's report", false, () => getDoc(doc(bob(), "thoughts/t1/reports/carol"))],
  ["another user lists a thought's reports", false, () => getDocs(collection(bob(), "thoughts/t1/reports"))],
  ["reporter withdraws a report", false, () => deleteDoc(doc(carol(), "thoughts/t1/reports/carol"))],
  // --- the model catalog ---
  ["anyone reads the catalog", true, () => getDocs(collection(anon(), "models"))],
  ["signed-in user writes the catalog", false, () => setDoc(doc(alice(), "models/bert"), { version: "evil" })],
  ["unauthenticated user writes the catalog", false, () => setDoc(doc(anon(), "models/new"), { id: "new" })],
  ["anything else is closed", false, () => getDoc(doc(alice(), "secrets/x"))],
];

describe("firestore.rules", () => {
  for (const [name, allowed, op] of cases) {
    test(`${allowed ? "allows" : "denies"}: ${name}`, async () => {
      await (allowed ? assertSucceeds(op()) : assertFails(op()));
    });
  }
});

// Runs after every case above: each condition of firestore.rules must have been evaluated by one.
test("coverage: every condition of firestore.rules is evaluated", async () => {
  const res = await fetch(`http://${process.env.FIRESTORE_EMULATOR_HOST}/emulator/v1/projects/${PROJECT}:ruleCoverage`);
  assert.equal(res.status, 200, "the emulator's coverage report is unavailable");
  const report = await res.json();
  mkdirSync("test-results", { recursive: true });
  writeFileSync("test-results/firestore-rules-coverage.json", JSON.stringify(report));
  const result = ruleCoverage(report);
  console.log(result.summary);
  for (const condition of result.oneSided) console.log(`  one outcome only: ${condition}`);
  assert.deepEqual(result.missed, [], `conditions no case evaluates:\n  ${result.missed.join("\n  ")}`);
});
