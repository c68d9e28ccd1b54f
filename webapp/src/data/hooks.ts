import { onAuthStateChanged, type User } from "firebase/auth";
import { collection, onSnapshot, orderBy, query } from "firebase/firestore";
import { useEffect, useState } from "react";
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

/** All of the user's messages, live, ordered by createdAt (pending local writes included). */
export function useMessages(uid: string): Live<ChatMessage[]> {
  const [state, setState] = useState<Live<ChatMessage[]>>({ data: [], loading: true, error: null });
  useEffect(() => {
    setState({ data: [], loading: true, error: null });
    const q = query(messagesCollection(uid), orderBy("createdAt"));
    return onSnapshot(
      q,
      { includeMetadataChanges: true },
      (snap) => {
        const data = snap.docs.map((d) =>
          // "estimate": a pending server timestamp reads as the local time instead of null.
          parseMessage(d.id, d.data({ serverTimestamps: "estimate" }), d.metadata.hasPendingWrites),
        );
        setState({ data, loading: false, error: null });
      },
      (e) => setState((s) => ({ ...s, loading: false, error: describeError(e) })),
    );
  }, [uid]);
  return state;
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
  const [state, setState] = useState<Live<string | null>>({ data: null, loading: true, error: null });
  useEffect(() => {
    setState({ data: null, loading: true, error: null });
    return onSnapshot(
      userDoc(uid),
      (snap) => {
        const v = snap.get("preferredModel");
        setState({ data: typeof v === "string" && v ? v : null, loading: false, error: null });
      },
      (e) => setState({ data: null, loading: false, error: describeError(e) }),
    );
  }, [uid]);
  return state;
}

/** Current time, re-rendered every `intervalMs` while `active`. */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const t = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(t);
  }, [active, intervalMs]);
  return now;
}
