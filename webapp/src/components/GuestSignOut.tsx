import { useEffect, useId, useRef, useState } from "react";
import { describeError, keepGuestWithEmail, keepGuestWithGoogle } from "../data/api";

interface Props {
  google: boolean;
  onSignOut: () => void;
  onCancel: () => void;
  /** The guest account now has a sign-in (an email): it is no longer a guest. */
  onKept: (account: string) => void;
}

/** Signing in to an existing account would leave this guest's history behind: say so, not "sign in". */
function linkError(e: unknown): string {
  const code = typeof e === "object" && e && "code" in e ? String(e.code) : "";
  if (code === "auth/email-already-in-use" || code === "auth/credential-already-in-use") {
    return "That account already exists, and a guest's conversations cannot be moved into it. Use another email.";
  }
  return describeError(e);
}

/**
 * Before a guest signs out: a guest account has no way back in, so its conversations would be lost.
 * Offers to keep them by linking the guest account to an email and password (the same uid, so the
 * messages stay where they are), or to sign out anyway.
 */
export function GuestSignOut({ google, onSignOut, onCancel, onKept }: Props) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [kept, setKept] = useState<string | null>(null);
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    panel.current?.querySelector<HTMLElement>("input, button")?.focus();
  }, [kept]);

  const keep = async (how: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    try {
      const account = await how();
      setKept(account);
      onKept(account);
    } catch (e) {
      setError(linkError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="dialog-backdrop" onClick={busy ? undefined : onCancel}>
      <div
        ref={panel}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid="guest-signout"
        onClick={(e) => e.stopPropagation()}
        onKeyDown={(e) => {
          if (e.key === "Escape" && !busy) {
            e.stopPropagation();
            onCancel();
          }
        }}
      >
        {kept ? (
          <>
            <h2 id={titleId}>Your conversations are kept</h2>
            <p data-testid="guest-kept">
              They now belong to <strong>{kept}</strong>. Sign in with it, on this or any device, to see them again.
            </p>
            <div className="dialog-actions">
              <button type="button" className="btn btn-ghost" onClick={onCancel}>
                Stay signed in
              </button>
              <button type="button" className="btn btn-primary" data-testid="guest-signout-confirm" onClick={onSignOut}>
                Sign out
              </button>
            </div>
          </>
        ) : (
          <>
            <h2 id={titleId}>Sign out and lose your conversations?</h2>
            <p>
              You are using machbot as a guest. A guest has no password, so once you sign out nobody can open these
              conversations again, not even you. Add an email and password to keep them.
            </p>
            <form
              className="signin-form"
              onSubmit={(e) => {
                e.preventDefault();
                void keep(() => keepGuestWithEmail(email, password));
              }}
            >
              <label htmlFor="keep-email">Email</label>
              <input
                id="keep-email"
                type="email"
                autoComplete="email"
                required
                value={email}
                onChange={(e) => {
                  setEmail(e.target.value);
                  setError(null);
                }}
                data-testid="keep-email"
              />
              <label htmlFor="keep-password">New password (at least 6 characters)</label>
              <input
                id="keep-password"
                type="password"
                autoComplete="new-password"
                required
                minLength={6}
                value={password}
                onChange={(e) => {
                  setPassword(e.target.value);
                  setError(null);
                }}
                onInvalid={() => setError(null)}
                data-testid="keep-password"
              />
              <button type="submit" className="btn btn-primary" disabled={busy} data-testid="keep-submit">
                {busy ? "Keeping…" : "Keep my conversations"}
              </button>
            </form>
            {google && (
              <button type="button" className="btn btn-secondary btn-block" disabled={busy} onClick={() => void keep(keepGuestWithGoogle)}>
                Keep them with Google
              </button>
            )}
            {error && (
              <p className="form-error" role="alert" data-testid="keep-error">
                {error}
              </p>
            )}
            <div className="dialog-actions">
              <button type="button" className="btn btn-ghost" disabled={busy} onClick={onCancel} data-testid="guest-signout-cancel">
                Cancel
              </button>
              <button type="button" className="btn btn-danger" disabled={busy} onClick={onSignOut} data-testid="guest-signout-discard">
                Sign out and lose them
              </button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}
