import { ChatShell } from "./components/ChatShell";
import { SignIn } from "./components/SignIn";
import { Logo } from "./components/icons";
import { useAuthUser } from "./data/hooks";
import { config } from "./firebase";

function Splash({ text }: { text: string }) {
  return (
    <main className="splash" aria-busy="true">
      <Logo size={48} />
      <p>{text}</p>
    </main>
  );
}

function Authed() {
  const { user, loading } = useAuthUser();
  if (loading) return <Splash text="Loading…" />;
  if (!user) return <SignIn config={config} />;
  // key: a different user gets a fresh shell (no state carried over between accounts).
  return <ChatShell key={user.uid} user={user} config={config} />;
}

export function App() {
  if (config.error) {
    return (
      <main className="splash">
        <Logo size={48} />
        <h1>machbot is not configured</h1>
        <p role="alert">{config.error}</p>
      </main>
    );
  }
  return <Authed />;
}
