import type { User } from "firebase/auth";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { describeError, reportThought, savePreferredModel, sendFeedback, sendMessage, setShare, signOutUser } from "../data/api";
import {
  useCatalog,
  useConversationMessages,
  useFirstTexts,
  useNow,
  useOnline,
  usePreferredModel,
  useRecentMessages,
} from "../data/hooks";
import type { AppConfig } from "../lib/config";
import {
  CONVERSATIONS_PAGE,
  MESSAGES_PAGE,
  UNGROUPED,
  groupConversations,
  newConversationId,
  resolveSelection,
  sortMessages,
  titleFromText,
} from "../lib/conversations";
import { effectiveModelId } from "../lib/models";
import { effectiveState, isWaiting } from "../lib/status";
import type { ReportReason } from "../lib/sharing";
import type { ChatMessage, Emotion } from "../lib/types";
import { Composer, type ComposerHandle, type SendOptions } from "./Composer";
import { ConversationList } from "./ConversationList";
import { GuestSignOut } from "./GuestSignOut";
import { CloseIcon, LogOutIcon, Logo, MenuIcon, PlusIcon } from "./icons";
import { MessageItem } from "./MessageItem";
import { ModelPicker } from "./ModelPicker";

const SUGGESTIONS = [
  "I finally got the job I wanted!",
  "I'm nervous about my exam tomorrow.",
  "I miss my grandmother so much.",
  "Someone scratched my car and just drove off.",
];

/** A Firestore call whose failure reads as one short sentence. */
async function readable(call: Promise<void>): Promise<void> {
  try {
    await call;
  } catch (e) {
    throw new Error(describeError(e), { cause: e });
  }
}

export function ChatShell({ user, config }: { user: User; config: AppConfig }) {
  const uid = user.uid;
  const catalog = useCatalog();
  const preferred = usePreferredModel(uid);
  const online = useOnline();

  // The picker's value: the local choice until the server copy (the one it was made against) changes.
  const [localModel, setLocalModel] = useState<{ id: string; over: string | null } | null>(null);
  const [prefError, setPrefError] = useState<string | null>(null);
  const modelId = effectiveModelId(
    localModel && localModel.over === preferred.data ? localModel.id : preferred.data,
    catalog.data,
  );

  const [selected, setSelected] = useState<string | null>(null);
  const [opened, setOpened] = useState<string | null>(null);
  const [draftId, setDraftId] = useState<string | null>(null);
  // The conversation to start when there is nothing to show.
  const [firstDraftId] = useState(newConversationId);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const [keptAs, setKeptAs] = useState<string | null>(null);
  const composer = useRef<ComposerHandle>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  /** Where the view was when older messages were asked for: kept in place when they arrive. */
  const olderAnchor = useRef<{ height: number; top: number } | null>(null);

  // The conversation list comes from the most recent messages only, a page at a time: a long history
  // opens as fast as a short one.
  const [listSize, setListSize] = useState(CONVERSATIONS_PAGE);
  const recent = useRecentMessages(uid, listSize);

  // Re-rendered every second while a recent message waits for its answer (pending timeout), else twice a minute.
  const anyWaiting = recent.data.some((m) => isWaiting(effectiveState(m)));
  const now = useNow(true, anyWaiting ? 1000 : 30_000);
  const grouped = useMemo(() => groupConversations(recent.data, now), [recent.data, now]);
  // A conversation that began before the recent messages is titled by its real first message.
  const maybeTruncated = recent.hasMore ? grouped.filter((c) => c.id !== UNGROUPED).map((c) => c.id) : [];
  const firstTexts = useFirstTexts(uid, maybeTruncated);
  const conversations = useMemo(
    () => grouped.map((c) => (firstTexts.has(c.id) ? { ...c, title: titleFromText(firstTexts.get(c.id) ?? "") } : c)),
    [grouped, firstTexts],
  );

  // Nothing to show yet: a fresh conversation.
  const currentId = resolveSelection(selected, conversations, draftId, opened) ?? (recent.loading ? null : firstDraftId);
  const listedDraftId = draftId ?? (currentId === firstDraftId ? firstDraftId : null);
  const current = conversations.find((c) => c.id === currentId) ?? null;

  // The open conversation: its newest messages, live, and older ones a page at a time on request.
  const [page, setPage] = useState<{ id: string | null; size: number }>({ id: null, size: MESSAGES_PAGE });
  const pageSize = page.id === currentId ? page.size : MESSAGES_PAGE;
  const ungrouped = currentId === UNGROUPED;
  const own = useConversationMessages(uid, currentId === null || ungrouped ? null : currentId, pageSize);
  // Messages written without a conversation cannot be queried by it: they come from the recent ones.
  const shown = ungrouped
    ? { data: sortMessages(recent.data.filter((m) => m.conversationId === null)), loading: recent.loading, hasMore: recent.hasMore }
    : { data: sortMessages(own.data), loading: own.loading, hasMore: own.hasMore };
  const currentMessages = shown.data;
  const loading = recent.loading || (currentId !== null && shown.loading);
  const loadError = recent.error ?? own.error;

  const showOlder = () => {
    const el = scroller.current;
    olderAnchor.current = el ? { height: el.scrollHeight, top: el.scrollTop } : null;
    stickToBottom.current = false;
    if (ungrouped) setListSize((n) => n + CONVERSATIONS_PAGE);
    else setPage({ id: currentId, size: pageSize + MESSAGES_PAGE });
  };

  const startNewConversation = () => {
    setDrawerOpen(false);
    if (!(currentId && currentId === listedDraftId && !current)) {
      const id = newConversationId();
      setDraftId(id);
      setSelected(id);
    }
    requestAnimationFrame(() => composer.current?.focus());
  };

  const selectConversation = (id: string) => {
    setSelected(id);
    setOpened(id);
    setDrawerOpen(false);
    requestAnimationFrame(() => composer.current?.focus());
  };

  const send = useCallback(
    async (text: string, options: SendOptions) => {
      if (!currentId) throw new Error("No conversation selected.");
      stickToBottom.current = true;
      try {
        const conversationId = currentId === UNGROUPED ? null : currentId;
        await sendMessage(uid, { text, model: modelId, conversationId, share: options.share });
      } catch (e) {
        throw new Error(describeError(e), { cause: e });
      }
    },
    [uid, modelId, currentId],
  );

  const resend = useCallback(
    async (m: ChatMessage) => {
      stickToBottom.current = true;
      await sendMessage(uid, { text: m.text, model: m.model || modelId, conversationId: m.conversationId, share: m.share });
    },
    [uid, modelId],
  );

  // The text itself was refused: back into the composer, where validation says what to change.
  const editText = useCallback((m: ChatMessage) => composer.current?.setText(m.text), []);

  const feedback = useCallback((m: ChatMessage, label: Emotion) => readable(sendFeedback(uid, m.id, label)), [uid]);
  const share = useCallback((m: ChatMessage, on: boolean) => readable(setShare(uid, m.id, on)), [uid]);
  const report = useCallback(
    (thoughtId: string, reason: ReportReason) => readable(reportThought(uid, thoughtId, reason)),
    [uid],
  );

  const changeModel = (id: string) => {
    setLocalModel({ id, over: preferred.data });
    setPrefError(null);
    savePreferredModel(uid, id).catch((e) => setPrefError(`Your choice was not saved: ${describeError(e)}`));
  };

  // Keep the newest message in view unless the user scrolled up to read; older messages arriving
  // above keep what the user was looking at in place.
  const last = currentMessages[currentMessages.length - 1];
  const signature = `${currentId}|${currentMessages.length}|${last?.id}|${last ? effectiveState(last) : ""}`;
  useLayoutEffect(() => {
    const el = scroller.current;
    const anchor = olderAnchor.current;
    if (el && anchor && el.scrollHeight !== anchor.height) {
      el.scrollTop = anchor.top + (el.scrollHeight - anchor.height);
      olderAnchor.current = null;
    } else if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  }, [signature]);
  useEffect(() => {
    stickToBottom.current = true;
  }, [currentId]);
  // The scroller also shrinks when the composer grows: stay at the bottom then too.
  const empty = currentMessages.length === 0;
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(() => {
      if (stickToBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    if (el.firstElementChild) ro.observe(el.firstElementChild);
    return () => ro.disconnect();
  }, [loading, empty]);

  // Escape closes the drawer on small screens.
  useEffect(() => {
    if (!drawerOpen) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setDrawerOpen(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [drawerOpen]);

  const guest = user.isAnonymous && keptAs === null;
  const who = keptAs ?? (user.isAnonymous ? "Guest" : user.email || user.displayName || "Signed in");
  // A guest with messages would lose them: ask first, and offer to keep them.
  const signOut = () => {
    if (guest && conversations.length > 0) setSigningOut(true);
    else void signOutUser();
  };
  const title = current?.title ?? "New conversation";

  return (
    <div className={`shell${drawerOpen ? " drawer-open" : ""}`}>
      <a className="skip-link" href="#composer-input">
        Skip to message box
      </a>
      <header className="topbar">
        <button
          type="button"
          className="icon-btn drawer-toggle"
          aria-controls="sidebar"
          aria-expanded={drawerOpen}
          onClick={() => setDrawerOpen((o) => !o)}
          data-testid="drawer-toggle"
        >
          <MenuIcon />
          <span className="sr-only">Conversations</span>
        </button>
        <div className="brand">
          <Logo />
          <span className="brand-name">machbot</span>
          {config.useEmulators && (
            <span className="env-badge" title="Connected to the local Firebase emulators">
              local
            </span>
          )}
        </div>
        <button type="button" className="btn btn-primary btn-new" data-testid="new-conversation" onClick={startNewConversation}>
          <PlusIcon />
          <span className="btn-new-text">New conversation</span>
          <span className="btn-new-short" aria-hidden="true">
            New
          </span>
        </button>
        <div className="account">
          <div className="account-chip" title={`User id: ${uid}`}>
            <span className="account-avatar" aria-hidden="true">
              {who[0]?.toUpperCase()}
            </span>
            <span className="account-text">
              <span className="account-name">{who}</span>
              <span className="account-uid">
                <span className="sr-only">User id </span>
                <span data-testid="user-id">{uid}</span>
              </span>
            </span>
          </div>
          <button type="button" className="btn btn-ghost btn-signout" data-testid="sign-out" onClick={signOut}>
            <LogOutIcon />
            <span className="btn-signout-text">Sign out</span>
          </button>
        </div>
      </header>

      <div className="body">
        <div className="scrim" onClick={() => setDrawerOpen(false)} aria-hidden="true" />
        <aside id="sidebar" className="sidebar" aria-label="Conversations">
          <div className="sidebar-head">
            <h2>Conversations</h2>
            <button type="button" className="icon-btn drawer-close" onClick={() => setDrawerOpen(false)}>
              <CloseIcon />
              <span className="sr-only">Close conversations</span>
            </button>
          </div>
          <ConversationList
            conversations={conversations}
            selectedId={currentId}
            draftId={listedDraftId}
            now={now}
            complete={!recent.hasMore}
            onSelect={selectConversation}
            onMore={() => setListSize((n) => n + CONVERSATIONS_PAGE)}
          />
          <div className="sidebar-account">
            <span className="account-avatar" aria-hidden="true">{who[0]?.toUpperCase()}</span>
            <span className="account-text">
              <span className="account-name">{who}</span>
              <span className="account-uid">{uid}</span>
            </span>
          </div>
        </aside>

        <main className="chat" aria-label={title}>
          <div className="chat-head">
            <h1 className="chat-title" title={title}>
              {title}
            </h1>
          </div>
          {loadError && (
            <p className="banner banner-error" role="alert">
              Messages could not be loaded: {loadError}
            </p>
          )}
          {!online && (
            <p className="banner banner-offline" role="status" data-testid="offline-banner">
              You are offline. Messages you send now are kept on this device and go out when the connection is back.
            </p>
          )}
          <div
            className="scroller"
            ref={scroller}
            onScroll={(e) => {
              const el = e.currentTarget;
              stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
            }}
          >
            {loading ? (
              <p className="loading">Loading messages…</p>
            ) : currentMessages.length === 0 ? (
              <div className="welcome">
                <Logo size={48} />
                <h2>How are you feeling?</h2>
                <p>Write anything. machbot reads the emotion behind it and answers; you can see what it detected and correct it.</p>
                <div className="suggestions">
                  {SUGGESTIONS.map((s) => (
                    <button type="button" key={s} className="chip" onClick={() => composer.current?.setText(s)}>
                      {s}
                    </button>
                  ))}
                </div>
              </div>
            ) : (
              <>
                {shown.hasMore && (
                  <div className="older">
                    <button type="button" className="btn btn-small btn-ghost" data-testid="older-messages" onClick={showOlder}>
                      Show earlier messages
                    </button>
                  </div>
                )}
                <ol className="messages" aria-label="Messages">
                  {currentMessages.map((m) => (
                  <MessageItem
                    key={m.id}
                    message={m}
                    now={now}
                    timeoutMs={config.pendingTimeoutMs}
                    onResend={resend}
                    onEdit={editText}
                    onFeedback={feedback}
                    onShare={share}
                    onReport={report}
                    online={online}
                  />
                ))}
                </ol>
              </>
            )}
          </div>
          <Composer
            ref={composer}
            onSend={send}
            draftKey={currentId}
            disabled={!currentId}
            toolbar={
              <>
                <ModelPicker catalog={catalog.data} loading={catalog.loading} error={catalog.error} value={modelId} onChange={changeModel} />
                {prefError && (
                  <p className="picker-warning" role="alert">
                    {prefError}
                  </p>
                )}
              </>
            }
          />
        </main>
      </div>
      {signingOut && (
        <GuestSignOut
          google={config.signIn.google}
          onKept={setKeptAs}
          onCancel={() => setSigningOut(false)}
          onSignOut={() => void signOutUser()}
        />
      )}
    </div>
  );
}
