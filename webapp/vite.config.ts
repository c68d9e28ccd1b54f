import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Built into webapp/dist, which Firebase Hosting serves (firebase.json "public": "webapp/dist").
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The Firebase SDK alone is ~400 kB minified; one app bundle is fine for this single page.
    chunkSizeWarningLimit: 1200,
  },
  server: { host: "127.0.0.1", port: 5173, strictPort: false },
  preview: { host: "127.0.0.1", port: 4173 },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
