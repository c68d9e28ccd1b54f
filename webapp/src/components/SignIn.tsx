import { useState } from "react";
import { describeError, signInAsGuest, signInWithEmail, signInWithGoogle } from "../data/api";
import type { AppConfig } from "../lib/config";
import { CatalogSummary } from "./CatalogSummary";
import { Logo } from "./icons";

export function SignIn({ config }: { config: AppConfig }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");

  const run = (what: string, fn: () => Promise<void>) => async () => {
    setBusy(what);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(describeError(e));
      setBusy(null);
    }
  };

  const { guest, emailPassword, google } = config.signIn;

  return (
    <main className="signin">
      <div className="signin-card">
        <div className="signin-brand">
          <Logo size={44} />
          <h1>machbot</h1>
        </div>
        <p className="signin-tagline">A chatbot that listens for how you feel, and answers with care.</p>
        <ul className="signin-emotions" aria-hidden="true">
          {["sadness", "joy", "love", "anger", "fear", "surprise"].map((e) => (
            <li key={e} className={`emo-${e}`}>
              {e}
            </li>
          ))}
        </ul>

        <div className="signin-actions">
          {google && (
            <button type="button" className="btn btn-primary btn-block" data-testid="sign-in-google" onClick={() => void run("google", signInWithGoogle)()} disabled={busy !== null}>
              {busy === "google" ? "Signing in…" : "Continue with Google"}
            </button>
          )}
          {guest && (
            <button
              type="button"
              className={`btn btn-block ${google ? "btn-secondary" : "btn-primary"}`}
              data-testid="sign-in-guest"
              onClick={() => void run("guest", signInAsGuest)()}
              disabled={busy !== null}
            >
              {busy === "guest" ? "Signing in…" : "Continue as guest"}
            </button>
          )}
        </div>

        {emailPassword && (
          <>
            <div className="divider">
              <span>or use email</span>
            </div>
            <form
              className="signin-form"
              onSubmit={(e) => {
                e.preventDefault();
                void run("email", () => signInWithEmail(email, password, false))();
              }}
            >
              <label htmlFor="signin-email">Email</label>
              <input
                id="signin-email"
                type="email"
                autoComplete="email"
                value={email}
                onChange={(e) => {
                  setEmail(e.target.value);
                  setError(null);
                }}
                onInvalid={() => setError(null)}
                required
                data-testid="sign-in-email"
              />
              <label htmlFor="signin-password">Password</label>
              <input
                id="signin-password"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => {
                  setPassword(e.target.value);
                  setError(null);
                }}
                // The browser refused the form (a too-short password, say) and says why at the field: an
                // earlier error from the server would contradict it. Editing a field clears it too.
                onInvalid={() => setError(null)}
                required
                minLength={6}
                data-testid="sign-in-password"
              />
              <div className="signin-form-actions">
                <button type="submit" className="btn btn-secondary" disabled={busy !== null} data-testid="sign-in-email-submit">
                  {busy === "email" ? "Signing in…" : "Sign in"}
                </button>
                <button
                  type="button"
                  className="btn btn-ghost"
                  disabled={busy !== null || !email || password.length < 6}
                  data-testid="sign-up-email"
                  onClick={() => void run("create", () => signInWithEmail(email, password, true))()}
                >
                  {busy === "create" ? "Creating…" : "Create account"}
                </button>
              </div>
            </form>
          </>
        )}

        {error && (
          <p className="form-error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        )}
        <CatalogSummary />
        {config.useEmulators && <p className="signin-note">Local mode: accounts live in the Auth emulator.</p>}
      </div>
    </main>
  );
}
