import {
  EmailAuthProvider,
  GoogleAuthProvider,
  createUserWithEmailAndPassword,
  linkWithCredential,
  linkWithPopup,
  signInAnonymously,
  signInWithEmailAndPassword,
  signInWithPopup,
  signOut,
} from "firebase/auth";
import { addDoc, collection, doc, serverTimestamp, setDoc, updateDoc } from "firebase/firestore";
import { getServices } from "../firebase";
import type { ReportReason } from "../lib/sharing";
import type { Emotion } from "../lib/types";

// Every path below is under the signed-in user's own `users/{uid}`, except a report on a shared
// thought (`thoughts/{id}/reports/{uid}`, the user's own report): the app never reads or writes
// anyone else's data, and the rules enforce the same.

export function messagesCollection(uid: string) {
  return collection(getServices().db, "users", uid, "messages");
}

export function userDoc(uid: string) {
  return doc(getServices().db, "users", uid);
}

export interface NewMessage {
  text: string;
  model: string;
  /** null only when continuing a conversation that was written without an id. */
  conversationId: string | null;
  /** Share an anonymised copy once answered; absent (not shared) unless true. */
  share?: boolean;
}

/** Create a message with exactly {text, model, createdAt, conversationId?, share?}; resolves with its id. */
export async function sendMessage(uid: string, m: NewMessage): Promise<string> {
  const data: Record<string, unknown> = { text: m.text, model: m.model, createdAt: serverTimestamp() };
  if (m.conversationId) data.conversationId = m.conversationId;
  if (m.share === true) data.share = true;
  const ref = await addDoc(messagesCollection(uid), data);
  return ref.id;
}

/** Report the right emotion for an answered message (the only update the owner may make). */
export async function sendFeedback(uid: string, messageId: string, label: Emotion): Promise<void> {
  await updateDoc(doc(messagesCollection(uid), messageId), { feedback: { label, at: serverTimestamp() } });
}

/** Share an anonymised copy of one's own message, or stop sharing it (the function does the rest). */
export async function setShare(uid: string, messageId: string, share: boolean): Promise<void> {
  await updateDoc(doc(messagesCollection(uid), messageId), { share });
}

/** Report a shared thought as inappropriate: one report per user and thought. */
export async function reportThought(uid: string, thoughtId: string, reason: ReportReason): Promise<void> {
  await setDoc(doc(getServices().db, "thoughts", thoughtId, "reports", uid), { reason, at: serverTimestamp() });
}

/** Persist the model choice on `users/{uid}` (merge: touches only `preferredModel`). */
export async function savePreferredModel(uid: string, modelId: string): Promise<void> {
  await setDoc(userDoc(uid), { preferredModel: modelId }, { merge: true });
}

export async function signInAsGuest(): Promise<void> {
  await signInAnonymously(getServices().auth);
}

export async function signInWithEmail(email: string, password: string, create: boolean): Promise<void> {
  const { auth } = getServices();
  if (create) await createUserWithEmailAndPassword(auth, email, password);
  else await signInWithEmailAndPassword(auth, email, password);
}

export async function signInWithGoogle(): Promise<void> {
  await signInWithPopup(getServices().auth, new GoogleAuthProvider());
}

/** The signed-in user, or a readable error. */
function currentUser() {
  const user = getServices().auth.currentUser;
  if (!user) throw new Error("You are not signed in any more.");
  return user;
}

/**
 * Keep a guest's history: link the anonymous account to an email and password. The uid stays the
 * same, so every message stays where it is; the user can sign in with the email from then on.
 */
export async function keepGuestWithEmail(email: string, password: string): Promise<string> {
  const { user } = await linkWithCredential(currentUser(), EmailAuthProvider.credential(email, password));
  return user.email ?? email;
}

/** The same with a Google account (where Google sign-in is enabled). */
export async function keepGuestWithGoogle(): Promise<string> {
  const { user } = await linkWithPopup(currentUser(), new GoogleAuthProvider());
  return user.email ?? user.displayName ?? "your Google account";
}

export async function signOutUser(): Promise<void> {
  await signOut(getServices().auth);
}

/** A short, human sentence for a Firebase error (auth or Firestore). */
export function describeError(e: unknown): string {
  const code = typeof e === "object" && e && "code" in e ? String(e.code) : "";
  const known: Record<string, string> = {
    "auth/invalid-email": "That email address is not valid.",
    "auth/missing-password": "Enter a password.",
    "auth/weak-password": "The password must be at least 6 characters.",
    "auth/email-already-in-use": "An account with this email already exists. Sign in instead.",
    "auth/credential-already-in-use": "That account already exists; a guest's conversations cannot be moved into it. Use another one.",
    "auth/provider-already-linked": "This account already has a sign-in of that kind.",
    "auth/invalid-credential": "Wrong email or password.",
    "auth/wrong-password": "Wrong email or password.",
    "auth/user-not-found": "No account with this email. Create one instead.",
    "auth/popup-closed-by-user": "The sign-in window was closed before finishing.",
    "auth/popup-blocked": "The browser blocked the sign-in window. Allow pop-ups and try again.",
    "auth/network-request-failed": "Network error: is the server reachable?",
    "auth/admin-restricted-operation": "This sign-in method is not enabled for the project.",
    "auth/operation-not-allowed": "This sign-in method is not enabled for the project.",
    "permission-denied": "Permission denied by the server.",
    unavailable: "The server is unreachable. Retrying when the connection is back.",
  };
  if (known[code]) return known[code];
  if (e instanceof Error && e.message) return e.message.replace(/^Firebase:\s*/, "");
  return "Something went wrong.";
}
