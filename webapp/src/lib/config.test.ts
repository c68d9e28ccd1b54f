import { describe, expect, it } from "vitest";
import { parseHostPort, resolveConfig } from "./config";

describe("resolveConfig", () => {
  it("uses the emulators and the demo project on localhost", () => {
    for (const host of ["localhost", "127.0.0.1"]) {
      const c = resolveConfig({}, host);
      expect(c.useEmulators).toBe(true);
      expect(c.firebase).toMatchObject({ projectId: "demo-machbot", apiKey: "fake-api-key", authDomain: "demo-machbot.firebaseapp.com" });
      expect(c.authEmulatorUrl).toBe("http://127.0.0.1:9099");
      expect(c.firestoreEmulator).toEqual({ host: "127.0.0.1", port: 8080 });
      expect(c.signIn).toEqual({ guest: true, emailPassword: true, google: false });
      expect(c.error).toBeNull();
    }
  });

  it("takes emulator ports from env", () => {
    const c = resolveConfig({ VITE_AUTH_EMULATOR_URL: "http://127.0.0.1:19099", VITE_FIRESTORE_EMULATOR_HOST: "127.0.0.1:18080" }, "localhost");
    expect(c.authEmulatorUrl).toBe("http://127.0.0.1:19099");
    expect(c.firestoreEmulator).toEqual({ host: "127.0.0.1", port: 18080 });
  });

  it("VITE_USE_EMULATORS forces either way", () => {
    expect(resolveConfig({ VITE_USE_EMULATORS: "true" }, "chat.example.com").useEmulators).toBe(true);
    expect(resolveConfig({ VITE_USE_EMULATORS: "false" }, "localhost").useEmulators).toBe(false);
  });

  it("uses the VITE_FIREBASE_* values in production with Google sign-in", () => {
    const c = resolveConfig(
      {
        VITE_FIREBASE_API_KEY: "AIza-test",
        VITE_FIREBASE_PROJECT_ID: "machbot-prod",
        VITE_FIREBASE_APP_ID: "1:2:web:3",
      },
      "machbot-prod.web.app",
    );
    expect(c.useEmulators).toBe(false);
    expect(c.firebase).toEqual({ apiKey: "AIza-test", projectId: "machbot-prod", authDomain: "machbot-prod.firebaseapp.com", appId: "1:2:web:3" });
    expect(c.signIn).toEqual({ guest: false, emailPassword: false, google: true });
    expect(c.error).toBeNull();
  });

  it("reports missing production settings instead of connecting anywhere", () => {
    const c = resolveConfig({}, "machbot.example.com");
    expect(c.error).toMatch(/VITE_FIREBASE_API_KEY.*VITE_FIREBASE_PROJECT_ID/);
  });

  it("reads the pending timeout from the URL, then env, then the default", () => {
    expect(resolveConfig({}, "localhost").pendingTimeoutMs).toBe(30_000);
    expect(resolveConfig({ VITE_PENDING_TIMEOUT_MS: "10000" }, "localhost").pendingTimeoutMs).toBe(10_000);
    expect(resolveConfig({ VITE_PENDING_TIMEOUT_MS: "10000" }, "localhost", "?pendingTimeoutMs=2000").pendingTimeoutMs).toBe(2000);
  });
});

describe("parseHostPort", () => {
  it("parses host:port forms", () => {
    expect(parseHostPort("127.0.0.1:18080")).toEqual({ host: "127.0.0.1", port: 18080 });
    expect(parseHostPort("http://localhost:9000/")).toEqual({ host: "localhost", port: 9000 });
    expect(parseHostPort("emulator")).toEqual({ host: "emulator", port: 8080 });
    expect(parseHostPort("[::1]:8081")).toEqual({ host: "[::1]", port: 8081 });
  });
});
