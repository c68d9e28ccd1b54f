import type { User } from "firebase/auth";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { describeError, reportThought, savePreferredModel, sendFeedback, sendMessage, setShare, signOutUser } from "../data/api";
import { useCatalog, useMessages, useNow, usePreferredModel } from "../data/hooks";
import type { AppConfig } from "../lib/config";
import { UNGROUPED, groupConversations, newConversationId, resolveSelection } from "../lib/conversations";
import { effectiveModelId } from "../lib/models";
import { effectiveState, isWaiting } from "../lib/status";
import type { ReportReason } from "../lib/sharing";
import type { ChatMessage, Emotion } from "../lib/types";
import { Composer, type ComposerHandle, type SendOptions } from "./Composer";
import { ConversationList } from "./ConversationList";
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
    throw new Error(describeError(e));
  }
}

export function ChatShell({ user, config }: { user: User; config: AppConfig }) {
  const uid = user.uid;
  const messages = useMessages(uid);
  const catalog = useCatalog();
  const preferred = usePreferredModel(uid);

  // The picker's value: the local choice until the server copy catches up.
  const [localModel, setLocalModel] = useState<string | null>(null);
  const [prefError, setPrefError] = useState<string | null>(null);
  useEffect(() => setLocalModel(null), [preferred.data]);
  const modelId = effectiveModelId(localModel ?? preferred.data);

  const [selected, setSelected] = useState<string | null>(null);
  const [draftId, setDraftId] = useState<string | null>(null);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const composer = useRef<ComposerHandle>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

  // When this client first saw each message (pending-timeout reference for not-yet-stamped writes).
  const firstSeen = useRef(new Map<string, number>());
  const conversations = useMemo(() => {
    const t = Date.now();
    for (const m of messages.data) if (!firstSeen.current.has(m.id)) firstSeen.current.set(m.id, t);
    return groupConversations(messages.data, t);
  }, [messages.data]);

  const currentId = resolveSelection(selected, conversations, draftId);
  const current = conversations.find((c) => c.id === currentId) ?? null;
  const currentMessages = current?.messages ?? [];

  // Nothing to show yet: start a fresh conversation.
  useEffect(() => {
    if (!messages.loading && currentId === null) {
      const id = newConversationId();
      setDraftId(id);
      setSelected(id);
    }
  }, [messages.loading, currentId]);

  const anyWaiting = currentMessages.some((m) => isWaiting(effectiveState(m)));
  const now = useNow(true, anyWaiting ? 1000 : 30_000);

  const startNewConversation = () => {
    setDrawerOpen(false);
    if (!(currentId && currentId === draftId && !current)) {
      const id = newConversationId();
      setDraftId(id);
      setSelected(id);
    }
    requestAnimationFrame(() => composer.current?.focus());
  };

  const selectConversation = (id: string) => {
    setSelected(id);
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
        throw new Error(describeError(e));
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

  const feedback = useCallback((m: ChatMessage, label: Emotion) => readable(sendFeedback(uid, m.id, label)), [uid]);
  const share = useCallback((m: ChatMessage, on: boolean) => readable(setShare(uid, m.id, on)), [uid]);
  const report = useCallback(
    (thoughtId: string, reason: ReportReason) => readable(reportThought(uid, thoughtId, reason)),
    [uid],
  );

  const changeModel = (id: string) => {
    setLocalModel(id);
    setPrefError(null);
    savePreferredModel(uid, id).catch((e) => setPrefError(`Your choice was not saved: ${describeError(e)}`));
  };

  // Keep the newest message in view unless the user scrolled up to read.
  const last = currentMessages[currentMessages.length - 1];
  const signature = `${currentId}|${currentMessages.length}|${last?.id}|${last ? effectiveState(last) : ""}`;
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  }, [signature]);
  useEffect(() => {
    stickToBottom.current = true;
  }, [currentId]);
  // The scroller also shrinks when the composer grows: stay at the bottom then too.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(() => {
      if (stickToBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    if (el.firstElementChild) ro.observe(el.firstElementChild);
    return () => ro.disconnect();
  }, [messages.loading, currentMessages.length === 0]);

  // Escape closes the drawer on small screens.
  useEffect(() => {
    if (!drawerOpen) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setDrawerOpen(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [drawerOpen]);

  const who = user.isAnonymous ? "Guest" : user.email || user.displayName || "Signed in";
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
          <button type="button" className="btn btn-ghost btn-signout" data-testid="sign-out" onClick={() => void signOutUser()}>
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
          <ConversationList conversations={conversations} selectedId={currentId} draftId={draftId} now={now} onSelect={selectConversation} />
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
          {messages.error && (
            <p className="banner banner-error" role="alert">
              Messages could not be loaded: {messages.error}
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
            {messages.loading ? (
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
              <ol className="messages" aria-label="Messages">
                {currentMessages.map((m) => (
                  <MessageItem
                    key={m.id}
                    message={m}
                    now={now}
                    timeoutMs={config.pendingTimeoutMs}
                    firstSeenMs={firstSeen.current.get(m.id) ?? null}
                    onResend={resend}
                    onFeedback={feedback}
                    onShare={share}
                    onReport={report}
                  />
                ))}
              </ol>
            )}
          </div>
          <Composer
            ref={composer}
            onSend={send}
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
    </div>
  );
}
