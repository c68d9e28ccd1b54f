import { initializeApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, type Auth } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore, type Firestore } from "firebase/firestore";
import { resolveConfig, type AppConfig } from "./lib/config";

export const config: AppConfig = resolveConfig(
  import.meta.env,
  window.location.hostname,
  window.location.search,
);

export interface Services {
  app: FirebaseApp;
  auth: Auth;
  db: Firestore;
}

let services: Services | null = null;

/** The Firebase services, created once; connected to the local emulators when configured so. */
export function getServices(): Services {
  if (services) return services;
  if (config.error) throw new Error(config.error);
  const app = initializeApp(config.firebase);
  const auth = getAuth(app);
  const db = getFirestore(app);
  if (config.useEmulators) {
    // disableWarnings: the SDK's own banner would cover the composer; the header shows a badge instead.
    connectAuthEmulator(auth, config.authEmulatorUrl, { disableWarnings: true });
    connectFirestoreEmulator(db, config.firestoreEmulator.host, config.firestoreEmulator.port);
  }
  services = { app, auth, db };
  return services;
}
