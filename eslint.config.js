// Lint for the whole workspace: typescript-eslint's type-checked rules and the
// React hooks rules, run by `pnpm lint` (part of `pnpm verify`) with zero
// warnings allowed.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/dist/**", "**/node_modules/**", "**/.next/**", "**/coverage/**", "**/*.d.ts", ".cache/**", "**/next-env.d.ts"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // Build and test configs belong to no package's tsconfig (those compile src/ only): checked with the base options.
          allowDefaultProject: ["vitest.config.ts", "vitest.base.ts", "tsup.base.ts", "packages/*/tsup.config.ts", "packages/*/vitest.config.ts"],
          defaultProject: "tsconfig.base.json",
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 40,
        },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // `_name` marks a parameter kept for its position.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // Off: an async method without await is how an adapter or fake implements an async port; it turns throws into rejections.
      "@typescript-eslint/require-await": "off",
      // A caught value passed on to a promise's reject keeps what was thrown, whatever it was.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
      // A let that a closure reads before its one assignment cannot be a const (temporal dead zone).
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ["**/*.tsx", "packages/react/src/**/*.ts"],
    plugins: { "react-hooks": reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    // HTTP tests read untyped JSON bodies (supertest's `body`, `res.json()`) and vitest's asymmetric matchers
    // (expect.any, expect.objectContaining) are typed `any`: in tests (and their shared suites and helpers)
    // those values are what the assertions check.
    files: ["**/*.test.ts", "**/*.test.tsx", "**/test-support/**/*.ts", "**/test-utils/**/*.ts", "**/*.test-support.ts", "**/*.contract.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    // Plain JavaScript (scripts, configs) is not part of any tsconfig: lint it without type information.
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
