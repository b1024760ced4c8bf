// ESLint flat config (issue 19): typescript-eslint's type-checked recommended set on everything tsconfig.json
// compiles, through the project service (one TypeScript program, as tsc builds it). Each change to the sets says why.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', '.sst/', '.gpu/', '.data/', '.cache/', 'dist/', 'test-artifacts/', 'tools/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Beyond the recommended set: a `return promise` inside try/catch/finally skips the catch and runs finally too
      // early — the class of bug behind a lost rejection — so it must be `return await` there (and only there).
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // A switch over a union (job phases, event types, option kinds) must handle every member or say `default`.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // An `async` implementation of a Promise-returning port (a fake store, a poster, a handler) turns a synchronous
      // throw into a rejection, which is what its callers handle; removing `async` to satisfy this rule would bring
      // back the synchronous-throw class of bug (the Slack ack path). So an `async` function without `await` is fine.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a deliberately unused name: a parameter a port's signature requires, or a key
      // destructured only to leave it out of `...rest`.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // sst.config.ts and infra/ compile against SST's generated platform types (.sst/platform, from
    // infra/scripts/sst-types.sh), which test/infra/sst-typecheck.test.ts typechecks them with. A second typed program
    // for them here gave different answers from run to run (types unresolved in some runs, not in others) and cost
    // ≈ 11 s, so they get the untyped rules; SST requires sst.config.ts's triple-slash reference.
    files: ['sst.config.ts', 'infra/**/*.ts'],
    extends: [tseslint.configs.disableTypeChecked],
    rules: { '@typescript-eslint/triple-slash-reference': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.any, expect.stringContaining, expect.objectContaining…) are typed `any` so
      // they fit any expected shape; this rule flags every one of them inside toEqual/toHaveBeenCalledWith objects.
      // Member access and calls on `any` (no-unsafe-member-access, no-unsafe-call) stay errors in tests too.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // The playground page's script: plain browser JavaScript, no build step.
    files: ['bot/web/public/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'script', globals: globals.browser },
  },
  {
    files: ['eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
);
