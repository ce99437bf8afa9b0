// Type-checked lint for the whole workspace. The rules that matter most here: floating promises (a lost
// Kafka ack is lost data), exhaustive switches over topics and actions, and package boundaries
// (services never import each other; no deep imports into another package's src/).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@grondslag/*/src/*"],
              message: "Import a package through its exports map, not its src/.",
            },
            {
              group: ["../../services/*", "../services/*"],
              message: "Services talk through topics and HTTP.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["services/*/src/**/*.ts"],
    ignores: ["services/*/src/**/*.spec.ts"],
    rules: { "no-console": "error" },
  },
  { files: ["**/*.js"], extends: [tseslint.configs.disableTypeChecked] },
);
