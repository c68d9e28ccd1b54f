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
    // The Firebase SDK is most of the bundle; separate vendor chunks keep the app chunk small
    // and let browsers cache the SDK across deploys.
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: "firebase", test: /node_modules[\\/](@firebase|firebase)[\\/]/ },
            { name: "react", test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
          ],
        },
      },
    },
  },
  server: { host: "127.0.0.1", port: 5173, strictPort: false },
  preview: { host: "127.0.0.1", port: 4173 },
  test: {
    // Logic in *.test.ts (node); components in *.test.tsx (jsdom, per file: `@vitest-environment jsdom`).
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
