// Lint = correctness rules + the pipeline's import boundaries (model -> cw -> index -> search and collection-tools ->
// worker -> ui, the page reaching the worker through its contract, src/worker-api): each folder may only import what
// its layer is allowed to see.
import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/** src/bench is for `npm run bench` and bench.html only: nothing the app's entry reaches may import it. */
const benchOnly = ['../bench/*', '../../bench/*'];
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
  { ignores: ['dist/', 'node_modules/', 'public/', 'test-results/', '.cache/', '.eval/', '.gpu-bench/', '.gl/', 'src/service-worker/sw.template.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // React's hook rules (the plugin's recommended set, React Compiler checks included) for the page's code.
  // exhaustive-deps is raised from 'warn' to 'error': lint runs with --max-warnings 0 anyway; this says so.
  {
    files: ['src/ui/**/*.{ts,tsx}', 'src/main.tsx'],
    ...reactHooks.configs.flat.recommended,
    rules: { ...reactHooks.configs.flat.recommended.rules, 'react-hooks/exhaustive-deps': 'error' },
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
  // util: small pure helpers (median) any layer may use; imports nothing of the app.
  layer(['src/util/**'], ['@tensorflow/*', 'idb', 'react', 'react-dom', '../*'], 'src/util is plain helpers: no library, nothing from other folders'),
  // model: the network wrapper; sees cw, not storage, search or UI.
  layer(['src/model/**'], ['idb', 'react', 'react-dom', '../index/*', '../search/*', '../collection-tools/*', '../worker/*', '../worker-api/*', '../ui/*', ...benchOnly], 'src/model sees tfjs and src/cw only'),
  // index: storage (IndexedDB); cw types and the model spec type only, and nothing of the in-memory index.
  layer(
    ['src/index/*'],
    ['@tensorflow/*', 'react', 'react-dom', '../search/*', '../collection-tools/*', '../worker/*', '../worker-api/*', '../ui/*', './memory/*', ...benchOnly],
    'src/index is storage: idb, cw types and the model spec type only',
    ['../cw/*', '../model/*'],
  ),
  // index/memory: the indexed collection as the worker keeps it in memory for the search: read from the storage
  // above it, it implements the search's Collection (so it sees search and tfjs-core, never the model or the worker).
  layer(
    ['src/index/memory/**'],
    [...tfjs, 'idb', 'react', 'react-dom', '../../model/*', '../../collection-tools/*', '../../worker/*', '../../worker-api/*', '../../ui/*', ...benchOnly.map((b) => `../${b}`)],
    'src/index/memory sees the storage (src/index), src/search and tfjs-core only',
    ['../../cw/*'],
  ),
  // search: ranking over stored records; gets maps through the Collection the worker injects, never from the model.
  layer(['src/search/**'], [...tfjs, 'idb', 'react', 'react-dom', '../model/*', '../index/memory/*', '../collection-tools/*', '../worker/*', '../worker-api/*', '../ui/*', ...benchOnly], 'src/search sees cw and index (storage) only'),
  // collection-tools: the pure algorithms of near-duplicates, groups of the same place and class counts; they see cw,
  // and search (its ranking helpers, the resident descriptor blocks), never the worker, storage or the model.
  layer(
    ['src/collection-tools/**'],
    [...tfjs, 'idb', 'react', 'react-dom', '../model/*', '../index/*', '../worker/*', '../worker-api/*', '../ui/*', ...benchOnly],
    'src/collection-tools sees cw, search and tfjs-core only',
  ),
  // worker: the engine and its services; model, index, search and util, and the contract's types. The CW maths only
  // through src/search (cw types are fine), and nothing of the page (nor the page's client of the worker).
  layer(
    ['src/worker/**'],
    ['react', 'react-dom', '../ui/*', '../../ui/*', '../worker-api/client', '../../worker-api/client', ...benchOnly],
    'src/worker runs the model, storage and search; it reaches the CW maths through src/search only',
    ['../cw/*', '../../cw/*'],
  ),
  // worker-api: the contract between the page and the worker: the message types and the comlink client. Nothing of
  // the worker's implementation; the records it names (cw, index, search) as types only.
  layer(
    ['src/worker-api/**'],
    ['@tensorflow/*', 'idb', 'zod', 'react', 'react-dom', '../worker/*', '../model/*', '../ui/*', '../util/*', ...benchOnly],
    'src/worker-api is the contract: message types and the comlink client, not the worker itself',
    ['../cw/*', '../index/*', '../search/*', '../collection-tools/*'],
  ),
  // scripts: the tests may use scripts/lib (the app in a browser, the evaluation's code), never the other way round.
  layer(['scripts/**'], ['../tests/*', '../../tests/*', '../../../tests/*'], 'scripts never import tests/: what both need lives in scripts/lib'),
  // ui: React; talks to the worker through its contract, src/worker-api (the client, the types), nothing else.
  layer(
    ['src/ui/**', 'src/main.tsx'],
    [
      '@tensorflow/*',
      'idb',
      'ml-matrix',
      'comlink',
      ...['./', '../', '../../'].flatMap((up) => ['model', 'search', 'collection-tools', 'index', 'cw', 'util', 'bench', 'worker'].map((dir) => `${up}${dir}/*`)),
    ],
    'src/ui talks to the worker through src/worker-api (its client and types) only',
    ['./worker-api/api', '../worker-api/api', '../../worker-api/api'],
  ),
);
