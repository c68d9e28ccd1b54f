import { onAuthStateChanged, type User } from "firebase/auth";
import {
  collection,
  getDocs,
  limit,
  onSnapshot,
  orderBy,
  query,
  where,
  type DocumentData,
  type QuerySnapshot,
} from "firebase/firestore";
import { useEffect, useRef, useState } from "react";
import { getServices } from "../firebase";
import { parseCatalogModel, parseMessage } from "../lib/parse";
import type { CatalogModel, ChatMessage } from "../lib/types";
import { describeError, messagesCollection, userDoc } from "./api";

export interface Live<T> {
  data: T;
  loading: boolean;
  error: string | null;
}

/** The signed-in user; `loading` until Firebase Auth has restored (or not) a session. */
export function useAuthUser(): { user: User | null; loading: boolean } {
  const [state, setState] = useState<{ user: User | null; loading: boolean }>({ user: null, loading: true });
  useEffect(() => onAuthStateChanged(getServices().auth, (user) => setState({ user, loading: false })), []);
  return state;
}

/** A page of messages, live, and whether older ones exist beyond it. */
export interface MessagePage extends Live<ChatMessage[]> {
  hasMore: boolean;
}

/** Parse a snapshot; `firstSeen` remembers when this client first saw each message (the pending
 * timeout's reference while a message has no server time). */
function parseSnapshot(snap: QuerySnapshot<DocumentData>, firstSeen: Map<string, number>): ChatMessage[] {
  const now = Date.now();
  return snap.docs.map((d) => {
    if (!firstSeen.has(d.id)) firstSeen.set(d.id, now);
    // "estimate": a pending server timestamp reads as the local time instead of null.
    const m = parseMessage(d.id, d.data({ serverTimestamps: "estimate" }), d.metadata.hasPendingWrites);
    return { ...m, firstSeenMs: firstSeen.get(d.id) ?? now };
  });
}

/** Which messages a page reads: all of the user's, one conversation's, or none. */
type Scope = { kind: "all" } | { kind: "conversation"; id: string } | { kind: "none" };

/**
 * The newest `count` messages in `scope` (ordered by createdAt, newest first), live, pending local
 * writes included. Asking for more (a larger `count`) keeps what is shown until the larger page
 * arrives, so the list does not flash empty.
 */
function useNewest(uid: string, scope: Scope, count: number): MessagePage {
  const key = `${uid}/${scope.kind}/${scope.kind === "conversation" ? scope.id : ""}`;
  const [state, setState] = useState<MessagePage & { key: string }>({ key, data: [], loading: true, error: null, hasMore: false });
  const none = scope.kind === "none";
  const conversation = scope.kind === "conversation" ? scope.id : null;
  useEffect(() => {
    if (none) return;
    const all = messagesCollection(uid);
    const q = conversation === null ? all : query(all, where("conversationId", "==", conversation));
    const firstSeen = new Map<string, number>();
    return onSnapshot(
      query(q, orderBy("createdAt", "desc"), limit(count)),
      { includeMetadataChanges: true },
      (snap) => setState({ key, data: parseSnapshot(snap, firstSeen), loading: false, error: null, hasMore: snap.size >= count }),
      (e) => setState((s) => ({ ...s, key, loading: false, error: describeError(e) })),
    );
  }, [uid, none, conversation, key, count]);
  if (none) return { data: [], loading: false, error: null, hasMore: false };
  // Another query's results (the previous conversation's) are never shown as this one's.
  if (state.key !== key) return { data: [], loading: true, error: null, hasMore: false };
  return state;
}

/** The user's most recent `count` messages, live: the conversation list is built from them. */
export function useRecentMessages(uid: string, count: number): MessagePage {
  return useNewest(uid, { kind: "all" }, count);
}

/** The newest `count` messages of one conversation, live (null: no query, e.g. the ungrouped ones). */
export function useConversationMessages(uid: string, conversationId: string | null, count: number): MessagePage {
  return useNewest(uid, conversationId === null ? { kind: "none" } : { kind: "conversation", id: conversationId }, count);
}

/** The first message's text of each conversation in `ids` (its title), read once and remembered. */
export function useFirstTexts(uid: string, ids: readonly string[]): ReadonlyMap<string, string> {
  const [texts, setTexts] = useState<ReadonlyMap<string, string>>(new Map());
  const asked = useRef(new Set<string>());
  const wanted = ids.join("\n");
  useEffect(() => {
    for (const id of wanted ? wanted.split("\n") : []) {
      if (asked.current.has(id)) continue;
      asked.current.add(id);
      const first = query(messagesCollection(uid), where("conversationId", "==", id), orderBy("createdAt"), limit(1));
      getDocs(first)
        .then((snap) => {
          const text: unknown = snap.docs[0]?.get("text");
          if (typeof text === "string") setTexts((m) => new Map(m).set(id, text));
        })
        .catch(() => asked.current.delete(id)); // offline: asked again with the next change of the list
    }
  }, [uid, wanted]);
  return texts;
}

/** The public model catalog `models/*`, live. */
export function useCatalog(): Live<CatalogModel[]> {
  const [state, setState] = useState<Live<CatalogModel[]>>({ data: [], loading: true, error: null });
  useEffect(
    () =>
      onSnapshot(
        collection(getServices().db, "models"),
        (snap) => setState({ data: snap.docs.map((d) => parseCatalogModel(d.id, d.data())), loading: false, error: null }),
        (e) => setState((s) => ({ ...s, loading: false, error: describeError(e) })),
      ),
    [],
  );
  return state;
}

/** `users/{uid}.preferredModel`, live (null when unset or unreadable). */
export function usePreferredModel(uid: string): Live<string | null> {
  const [state, setState] = useState<Live<string | null> & { uid: string }>({ uid, data: null, loading: true, error: null });
  useEffect(
    () =>
      onSnapshot(
        userDoc(uid),
        (snap) => {
          const v: unknown = snap.get("preferredModel");
          setState({ uid, data: typeof v === "string" && v ? v : null, loading: false, error: null });
        },
        (e) => setState({ uid, data: null, loading: false, error: describeError(e) }),
      ),
    [uid],
  );
  // Another user's choice is never shown as this one's.
  return state.uid === uid ? state : { data: null, loading: true, error: null };
}

/** Current time, re-rendered every `intervalMs` while `active`. */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(t);
  }, [active, intervalMs]);
  return now;
}

/** Whether the browser says it is online (`navigator.onLine`, kept current by its events). */
export function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener("online", up);
    window.addEventListener("offline", down);
    return () => {
      window.removeEventListener("online", up);
      window.removeEventListener("offline", down);
    };
  }, []);
  return online;
}
