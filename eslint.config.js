// ESLint flat config: @eslint/js recommended and typescript-eslint strict (a superset of its recommended set),
// syntax only: no type information, so a run takes seconds. eslint-config-prettier comes last so that layout is
// Prettier's business alone.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['node_modules/', 'model/zoo/', 'runs/', 'coverage/', 'test-results/', 'dist/', 'training/']),
  js.configs.recommended,
  tseslint.configs.strict,
  {
    rules: {
      // `_`-prefixed names are unused on purpose (a callback's position, a destructured field left out)
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // `x!` is used deliberately where a lookup or an index is known to hit (typed arrays, a Map after has(),
      // esbuild's one output file); the alternatives are casts or dead branches
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['server/**', 'model/**', 'scripts/**', 'test/**', '*.ts', '*.js', '*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['web/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // model/ is used through its public surface only; its internals may move without notice.
    files: ['server/**', 'scripts/**', 'web/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // gitignore rules, last match wins, and a file in an excluded folder cannot be let back in: so
              // exclude what sits in model/, let index.ts and the contract/ and import/ folders back, exclude
              // everything inside any folder of model/, and let those two folders' index.ts back.
              group: [
                '**/model/*',
                '!**/model/index.ts',
                '!**/model/contract/',
                '!**/model/import/',
                '**/model/*/*',
                '!**/model/contract/index.ts',
                '!**/model/import/index.ts',
              ],
              message:
                'Import model/ through model/index.ts (the runtime), model/contract/index.ts (schemas and types) ' +
                'or model/import/index.ts (the importer); everything else under model/ is internal.',
            },
          ],
        },
      ],
    },
  },
  {
    // The page may take a contract file by itself (all are pure), so that its bundle holds only what it uses.
    files: ['web/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/model/*', '!**/model/contract/', '**/model/*/*', '!**/model/contract/*.ts'],
              message: 'The page takes types and pure helpers from model/contract/ only.',
            },
          ],
        },
      ],
    },
  },
  prettier,
);
