// Lint = correctness rules + the pipeline's import boundaries (model -> cw -> index -> search -> ui, with the
// worker in between): each folder may only import what its layer is allowed to see.
import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const tfjs = ['@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-*', '@tensorflow/tfjs', '@tensorflow/tfjs-converter'];
/** One boundary rule per folder: `forbidden` may not be imported at all, `typesOnly` only with `import type`. */
const layer = (files, forbidden, message, typesOnly = []) => ({
  files,
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: forbidden, message },
          ...(typesOnly.length ? [{ group: typesOnly, message: `${message} (types only)`, allowTypeImports: true }] : []),
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'public/', 'test-results/', '.cache/', '.eval/', '.gpu-bench/', '.gl/', 'src/worker/sw.template.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/ui/**/*.{ts,tsx}', 'src/main.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  // cw: pure maths on tfjs-core tensors. No I/O, no model, no DOM, nothing from other folders.
  layer(['src/cw/**'], [...tfjs, 'idb', 'react', 'react-dom', '../*'], 'src/cw is pure CW maths: it imports @tensorflow/tfjs-core, ml-matrix and ./ only'),
  // model: the network wrapper; sees cw, not storage, search or UI.
  layer(['src/model/**'], ['idb', 'react', 'react-dom', '../index/*', '../search/*', '../worker/*', '../ui/*'], 'src/model sees tfjs and src/cw only'),
  // index: storage; cw types only.
  layer(['src/index/**'], ['@tensorflow/*', 'react', 'react-dom', '../model/*', '../search/*', '../worker/*', '../ui/*'], 'src/index is storage: idb and cw types only', ['../cw/*']),
  // search: ranking over stored records; gets maps through the Collection the worker injects, never from the model.
  layer(['src/search/**'], [...tfjs, 'idb', 'react', 'react-dom', '../model/*', '../worker/*', '../ui/*'], 'src/search sees cw and index only'),
  // ui: React; talks to the worker client and api types, never to tfjs, idb or the maths directly.
  layer(['src/ui/**', 'src/main.tsx'], ['@tensorflow/*', 'idb', 'ml-matrix', '../model/*', '../search/*', '../index/*', '../cw/*', '../../model/*', '../../search/*', '../../index/*', '../../cw/*'], 'src/ui talks to src/worker/client and src/worker/api types only'),
);
