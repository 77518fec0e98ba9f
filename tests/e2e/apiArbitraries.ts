/**
 * fast-check arbitraries of argument lists for every worker API method and every debug tool ('debug.' + its name)
 * (tests/e2e/app-api.test.ts): each near a
 * valid call — ids of the collection, sensible options — with any field, argument or whole object replaced by junk
 * (missing, null, wrong types, NaN, infinities, huge numbers, empty lists, unknown ids) or left out. Blobs and Files
 * are markers ({ $blob }, { $file }) that the page turns into the real thing. clearCollection is left out (it
 * changes the collection whatever it is given; the test calls it once at the end).
 */
import fc from 'fast-check';
import type { EngineApi } from '../../src/worker-api/api';
import type { DebugApi } from '../../src/worker-api/debugApi';

/** A value that crosses page.evaluate; the page revives the markers. */
export type Revivable = unknown;

/** An id of the right form that is not in any collection. */
const UNKNOWN_ID = 'f'.repeat(64);

const blob = fc.record({ $blob: fc.string({ maxLength: 16 }) });
const file = fc.record({
  $file: fc.record({ name: fc.constantFrom('a.jpg', 'notes.txt', 'model.json', 'labels.json', 'weights.bin', ''), content: fc.string({ maxLength: 24 }), type: fc.constantFrom('image/jpeg', 'text/plain', '') }),
});

/** A value in range mostly, out of range sometimes. */
const pick = (good: Revivable[], bad: Revivable[]) => fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 20 }, { arbitrary: fc.constantFrom(...bad), weight: 1 });

const junk: fc.Arbitrary<Revivable> = fc.oneof(
  fc.constantFrom(undefined, null, NaN, Infinity, -Infinity, -0, 0, -1, 0.5, 1.5, 1e308, 2 ** 53, Number.MAX_SAFE_INTEGER, '', ' ', 'x', true, false, [], {}),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 12 }),
  blob,
  fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !k.startsWith('$')), fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), { maxKeys: 3 }),
);

/** The builders of arguments; `junky`: each value may be junk, objects may lack fields, argument lists be cut or long. */
function builders(junky: boolean) {
  /** The valid value mostly, junk sometimes. */
  const maybe = (valid: fc.Arbitrary<Revivable>) => (junky ? fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: junk, weight: 1 }) : valid);
  /** An object with each field valid or junk, the optional ones sometimes left out (the required ones too, rarely, when junky). */
  const obj = (shape: Record<string, fc.Arbitrary<Revivable>>, required: string[] = []) => {
    const fields = Object.fromEntries(Object.entries(shape).map(([k, a]) => [k, maybe(a)]));
    const full = fc.record(fields, { requiredKeys: required });
    return maybe(junky && required.length ? fc.oneof({ arbitrary: full, weight: 6 }, { arbitrary: fc.record(fields, { requiredKeys: [] }), weight: 1 }) : full);
  };
  /** A method's argument list: each argument valid or junk; when junky, sometimes cut short or with extra ones. */
  const argsOf = (...params: fc.Arbitrary<Revivable>[]): fc.Arbitrary<Revivable[]> => {
    const full = params.length ? fc.tuple(...params.map(maybe)) : fc.constant([] as Revivable[]);
    if (!junky) return full;
    return fc.oneof(
      { arbitrary: full, weight: 4 },
      { arbitrary: fc.tuple(full, fc.nat(params.length)).map(([a, n]) => a.slice(0, n)), weight: 1 },
      { arbitrary: fc.tuple(full, fc.array(junk, { minLength: 1, maxLength: 2 })).map(([a, extra]) => [...a, ...extra]), weight: 1 },
    );
  };
  return { obj, argsOf };
}

type Methods = Exclude<keyof EngineApi, 'clearCollection'> | `debug.${keyof DebugApi}`;

/** An arbitrary of argument lists for each method, given the ids of the collection: well-formed ones (values in and out of range) and junky ones, half and half. */
export function apiArguments(ids: string[]): Record<Methods, fc.Arbitrary<Revivable[]>> {
  const wellFormed = argumentsOf(ids, false);
  const junky = argumentsOf(ids, true);
  return Object.fromEntries(Object.entries(wellFormed).map(([m, a]) => [m, fc.oneof(a, junky[m as Methods])])) as Record<Methods, fc.Arbitrary<Revivable[]>>;
}

function argumentsOf(ids: string[], junky: boolean): Record<Methods, fc.Arbitrary<Revivable[]>> {
  const { obj, argsOf } = builders(junky);
  const id = fc.oneof({ arbitrary: fc.constantFrom(...ids), weight: 3 }, { arbitrary: fc.constant(UNKNOWN_ID), weight: 1 });
  const idList = fc.array(id, { maxLength: 3 });
  const bool = fc.boolean();
  const querySource = fc.oneof(
    { arbitrary: obj({ kind: fc.constant('photo'), id }, ['kind', 'id']), weight: 3 },
    { arbitrary: obj({ kind: fc.constant('file'), file: fc.oneof(blob, file), name: fc.string({ maxLength: 8 }) }, ['kind', 'file', 'name']), weight: 1 },
  );
  const coordinate = fc.oneof(fc.integer({ min: -50, max: 3000 }), fc.constantFrom(1e9, -1e9));
  const controls = obj(
    {
      aggregation: pick(['offline', 'online'], ['both']),
      nc: pick([64, 8], [0, 1001]),
      qe: pick([0, 1, 3], [-1]),
      rerank: pick([0, 2], [0.5]),
      superGlobal: pick([0, 10], [-10]),
      onlineShortlist: pick([0, 10], [1e6]),
      qeAlpha: pick([0, 3], [11]),
      qeSource: pick(['global', 'region'], ['other']),
      qeNeighbours: pick(['top', 'reciprocal', 'gap'], ['nearest']),
      diffusion: pick([0, 10], [1e6]),
      diffusionK: pick([1, 5], [0]),
    },
    ['aggregation', 'nc', 'qe', 'rerank'],
  );
  const within = fc.oneof(
    { arbitrary: obj({ ids: idList }, ['ids']), weight: 3 },
    { arbitrary: obj({ class: pick([0, 3], [5000]), topK: pick([1, 5], [9]) }, ['class']), weight: 2 },
    { arbitrary: obj({ group: fc.constantFrom('g:nothing', '') }, ['group']), weight: 1 },
  );
  const none = argsOf();
  return {
    start: argsOf(obj({ backend: fc.constantFrom('auto', 'wasm', 'quantum'), model: fc.constantFrom('mobilenet_v1_0.75', 'nope'), longSide: fc.constantFrom(512, 63, 4096), thumbnails: fc.constantFrom('on-demand', 'some'), threads: fc.constantFrom(1, 0) }, ['backend']), fc.constant(null)),
    importFiles: argsOf(fc.array(obj({ file, path: fc.string({ maxLength: 8 }) }, ['file']), { maxLength: 2 })),
    cancelIndexing: none,
    resumeIndexing: none,
    removeUnindexed: none,
    exportIndex: argsOf(obj({ photos: bool }, ['photos'])),
    importIndex: argsOf(fc.oneof(blob, file)),
    setModel: argsOf(fc.constantFrom('mobilenet_v1_0.75', 'nope', '', 'resnet50 ')),
    photoBlob: argsOf(id),
    photoFile: argsOf(id),
    thumbnails: argsOf(idList),
    thumbnailUrls: argsOf(idList),
    releaseThumbnailUrls: argsOf(fc.array(fc.constantFrom('blob:http://127.0.0.1/0', 'not a url', ''), { maxLength: 2 })),
    setStorageMode: argsOf(fc.constantFrom('link', 'copy', 'none', 'all')),
    storageReport: none,
    linkedFolders: none,
    foldersGranted: none,
    photoClasses: argsOf(id),
    openQuery: argsOf(querySource),
    search: argsOf(
      obj({
        query: querySource,
        box: obj({ x1: coordinate, y1: coordinate, x2: coordinate, y2: coordinate }, ['x1', 'y1', 'x2', 'y2']),
        controls,
        within,
        offset: fc.constantFrom(0, 10, 1e9),
        limit: fc.constantFrom(1, 5, 1e9),
        minScore: fc.constantFrom(0.5, -1),
      },
      ['query'],
    ),
    ),
    heatmaps: argsOf(fc.array(fc.oneof(obj({ kind: fc.constant('query') }, ['kind']), obj({ kind: fc.constant('photo'), id }, ['kind', 'id'])), { maxLength: 3 }), fc.constantFrom(0, 5, 999, 1000, 1e9)),
    retryModel: none,
    addCustomModel: argsOf(
      fc.oneof(obj({ kind: fc.constant('files'), files: fc.array(file, { maxLength: 2 }) }, ['kind', 'files']), obj({ kind: fc.constant('url'), url: fc.constantFrom('', 'x/model.json', 'http://example.invalid/model.json', '/models/none/model.json') }, ['kind', 'url'])),
      obj({ name: fc.string({ maxLength: 8 }), preprocessing: fc.constantFrom('inception', 'caffe', 'other') }, ['preprocessing']),
    ),
    'debug.stats': none,
    'debug.checkIntegrity': none,
    'debug.photo': argsOf(id),
    'debug.loseGpuDevice': argsOf(fc.constantFrom('now', 'next-photo', 'later')),
    'debug.failForward': argsOf(fc.constantFrom(0, 1, 1e6)),
    'debug.measureBackends': argsOf(obj({ includeSoftware: bool, fresh: bool }, ['includeSoftware'])),
    'debug.forwardTiming': argsOf(fc.array(id, { maxLength: 2 }), obj({ fullSize: bool }, ['fullSize'])),
    deletePhotos: argsOf(idList),
    undoDelete: argsOf(fc.oneof(fc.string({ maxLength: 8 }), fc.uuid())),
    duplicates: argsOf(obj({ threshold: fc.constantFrom(0.85, 0.5, 1, 2), wait: bool })),
    groups: argsOf(obj({ k: fc.constantFrom(1, 10, 1e9, 0), minSim: fc.constantFrom(0.7, 2, -1), wait: bool })),
    rebuildGroups: none,
    cancelGrouping: none,
    classCounts: argsOf(obj({ topK: fc.constantFrom(1, 5, 6), limit: fc.constantFrom(1, 50, 1e12) })),
    photosWithClass: argsOf(fc.constantFrom(0, 3, 999, 1e9), obj({ topK: fc.constantFrom(1, 5, 6) })),
    photoFacts: argsOf(idList),
  };
}
