// ESLint for the web app: typescript-eslint's type-aware rules and React's hooks rules.
// `npm run lint` (part of the project's test command) must pass with no warnings.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "node_modules"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  reactHooks.configs.flat.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    languageOptions: {
      globals: globals.browser,
      // vite.config.ts is outside tsconfig.json's `src`: checked with the default project.
      parserOptions: { projectService: { allowDefaultProject: ["vite.config.ts"] }, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Plain JavaScript config files: no type information.
    files: ["**/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
);
