// Type-checked lint for the whole workspace. The rules that matter most here: floating promises (a lost
// Kafka ack is lost data), exhaustive switches over topics and actions, and package boundaries
// (`grondslag/package-boundaries`: the package graph in tools/eslint-plugin/src/graph.js, deep imports into
// another package's src/, no network I/O in the pure packages).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import grondslag from "./tools/eslint-plugin/src/index.js";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "infra/.cache/**", "infra/.state/**", "schemas/src/generated/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": [
        "error",
        { considerDefaultExhaustiveForUnions: true },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    plugins: { grondslag },
    rules: { "grondslag/package-boundaries": "error" },
  },
  {
    files: ["services/*/src/**/*.ts"],
    ignores: ["services/*/src/**/*.spec.ts"],
    rules: { "no-console": "error" },
  },
  { files: ["**/*.js"], extends: [tseslint.configs.disableTypeChecked] },
);
