import { DEFAULT_PENDING_TIMEOUT_MS, parseTimeoutMs } from "./status";

/** The Firebase web config of the local emulator project (not a secret: demo projects never reach Google). */
export const DEMO_FIREBASE_OPTIONS = {
  projectId: "demo-machbot",
  apiKey: "fake-api-key",
  authDomain: "demo-machbot.firebaseapp.com",
  storageBucket: "demo-machbot.appspot.com",
} as const;

export const DEFAULT_AUTH_EMULATOR_URL = "http://127.0.0.1:9099";
export const DEFAULT_FIRESTORE_EMULATOR_HOST = "127.0.0.1:8080";

export interface FirebaseWebOptions {
  projectId: string;
  apiKey: string;
  authDomain: string;
  storageBucket?: string;
  messagingSenderId?: string;
  appId?: string;
}

export interface AppConfig {
  useEmulators: boolean;
  firebase: FirebaseWebOptions;
  authEmulatorUrl: string;
  firestoreEmulator: { host: string; port: number };
  /** Sign-in methods offered on the sign-in screen. */
  signIn: { guest: boolean; emailPassword: boolean; google: boolean };
  pendingTimeoutMs: number;
  /** Set when production settings are missing: the app shows it instead of trying to connect. */
  error: string | null;
}

/** The Vite env vars this app reads (all optional). */
export interface AppEnv {
  VITE_FIREBASE_API_KEY?: string;
  VITE_FIREBASE_AUTH_DOMAIN?: string;
  VITE_FIREBASE_PROJECT_ID?: string;
  VITE_FIREBASE_STORAGE_BUCKET?: string;
  VITE_FIREBASE_MESSAGING_SENDER_ID?: string;
  VITE_FIREBASE_APP_ID?: string;
  VITE_USE_EMULATORS?: string;
  VITE_AUTH_EMULATOR_URL?: string;
  VITE_FIRESTORE_EMULATOR_HOST?: string;
  VITE_ALLOW_GUEST?: string;
  VITE_PENDING_TIMEOUT_MS?: string;
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function isLocalHostname(hostname: string): boolean {
  return LOCAL_HOSTS.has(hostname) || hostname.endsWith(".localhost");
}

function flag(v: string | undefined): boolean | null {
  if (v == null || v.trim() === "") return null;
  return /^(1|true|yes|on)$/i.test(v.trim());
}

function nonEmpty(v: string | undefined): string | undefined {
  return v && v.trim() !== "" ? v.trim() : undefined;
}

/** "127.0.0.1:8080" -> {host, port}; a bare host gets port 8080. */
export function parseHostPort(value: string, defaultPort = 8080): { host: string; port: number } {
  const v = value.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(v);
  if (!m) return { host: "127.0.0.1", port: defaultPort };
  return { host: m[1], port: m[2] ? Number(m[2]) : defaultPort };
}

/**
 * Resolve the runtime configuration. Emulators are used when VITE_USE_EMULATORS is true, or when it
 * is unset and the page is served from localhost/127.0.0.1; VITE_USE_EMULATORS=false forces production.
 * `search` is the page's query string: `pendingTimeoutMs` there overrides the pending timeout.
 */
export function resolveConfig(env: AppEnv, hostname: string, search = ""): AppConfig {
  const forced = flag(env.VITE_USE_EMULATORS);
  const useEmulators = forced ?? isLocalHostname(hostname);
  const params = new URLSearchParams(search);
  const pendingTimeoutMs = parseTimeoutMs(
    params.get("pendingTimeoutMs") ?? env.VITE_PENDING_TIMEOUT_MS,
    DEFAULT_PENDING_TIMEOUT_MS,
  );
  const firestoreEmulator = parseHostPort(nonEmpty(env.VITE_FIRESTORE_EMULATOR_HOST) ?? DEFAULT_FIRESTORE_EMULATOR_HOST);
  const authEmulatorUrl = nonEmpty(env.VITE_AUTH_EMULATOR_URL) ?? DEFAULT_AUTH_EMULATOR_URL;

  if (useEmulators) {
    return {
      useEmulators,
      firebase: { ...DEMO_FIREBASE_OPTIONS },
      authEmulatorUrl,
      firestoreEmulator,
      signIn: { guest: true, emailPassword: true, google: false },
      pendingTimeoutMs,
      error: null,
    };
  }

  const apiKey = nonEmpty(env.VITE_FIREBASE_API_KEY);
  const projectId = nonEmpty(env.VITE_FIREBASE_PROJECT_ID);
  const authDomain = nonEmpty(env.VITE_FIREBASE_AUTH_DOMAIN) ?? (projectId ? `${projectId}.firebaseapp.com` : undefined);
  const missing = [
    !apiKey && "VITE_FIREBASE_API_KEY",
    !projectId && "VITE_FIREBASE_PROJECT_ID",
  ].filter(Boolean);
  const firebase: FirebaseWebOptions = {
    apiKey: apiKey ?? "",
    projectId: projectId ?? "",
    authDomain: authDomain ?? "",
  };
  const storageBucket = nonEmpty(env.VITE_FIREBASE_STORAGE_BUCKET);
  const messagingSenderId = nonEmpty(env.VITE_FIREBASE_MESSAGING_SENDER_ID);
  const appId = nonEmpty(env.VITE_FIREBASE_APP_ID);
  if (storageBucket) firebase.storageBucket = storageBucket;
  if (messagingSenderId) firebase.messagingSenderId = messagingSenderId;
  if (appId) firebase.appId = appId;
  return {
    useEmulators,
    firebase,
    authEmulatorUrl,
    firestoreEmulator,
    signIn: { guest: flag(env.VITE_ALLOW_GUEST) ?? false, emailPassword: false, google: true },
    pendingTimeoutMs,
    error: missing.length
      ? `This build has no Firebase configuration (missing ${missing.join(", ")}). Set the VITE_FIREBASE_* variables and rebuild.`
      : null,
  };
}
