/**
 * The evaluation's sets and bookkeeping: the built manifests (ukbench, mixed, sparse) from the real manifests in
 * ../shared, the seeded query subset, the N-S score, the manifest checks, and the app-default row being the app's
 * own controls. No network, no photos decoded.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSearchControls } from '../../src/search/controls';
import { APP_DEFAULT_CONTROLS, searchParamsOf } from '../../src/search/defaults';
import type { ManifestQuery } from '../../scripts/lib/evalQueries';
import { selectQueries } from '../../scripts/lib/evalQueries';
import { APP_DEFAULT, appDefaultMethod, methodFromName, paramsOf, parseMethod } from '../../scripts/lib/evalMethods';
import { mixedSet, sparseSet, ukbenchSet, SPARSE_DEFAULTS, type SourceSet } from '../../scripts/lib/evalSets';
import { TABLE_METHODS } from '../../scripts/lib/evalTable';
import { nsScore, readManifest } from '../../scripts/lib/manifest';
import { sparseLandmarkSet, SPARSE_LM_DEFAULTS } from '../../scripts/lib/sparseLandmarks';
import { projectRoot } from '../../scripts/lib/node';
import { needsDevSet, needsUkbenchSet } from '../helpers/requirements';

const devDir = needsDevSet();
const ukbDir = needsUkbenchSet();
const source = (dir: string): SourceSet => ({ ...JSON.parse(readFileSync(join(dir, 'MANIFEST.json'), 'utf8')), dir });

/** dev's outside-query manifest as scripts/make-outside-queries.ts writes it (query files named, not decoded). */
function devOutside(dir: string): SourceSet {
  const dev = source(dir);
  const queries = dev.queries.flatMap((q): ManifestQuery[] => [
    { ...q, kind: 'box' },
    { id: `c.${q.id}`, query_file: `queries/${q.id}-crop.png`, kind: 'crop', bbox_xyxy: [0, 0, 10, 10], positives: q.positives, junk: q.junk },
    { id: `p.${q.id}`, query_file: `queries/${q.id}-photo.jpg`, kind: 'photo', bbox_xyxy: [0, 0, 10, 10], positives: q.positives, junk: q.junk },
  ]);
  return { ...dev, name: 'paris6k-mini-dev-outside', queries };
}

describe.skipIf(!devDir || !ukbDir)('evaluation sets from ../shared', () => {
  const out = mkdtempSync(join(tmpdir(), 'eval-sets-'));
  it('ukbench: 1000 whole-photo queries, 3 positives each from their own object, N-S on', () => {
    const set = ukbenchSet(source(ukbDir!), out);
    expect(set.images).toHaveLength(1000);
    expect(set.queries).toHaveLength(1000);
    expect(set.ns_score_sets).toEqual(['ukbench']);
    const objectOf = new Map(set.groups!.flatMap((g, k) => g.map((n) => [n, k])));
    for (const q of set.queries) {
      expect(q.positives).toHaveLength(3);
      expect(q.positives.every((p) => objectOf.get(p) === objectOf.get(q.image!))).toBe(true);
      expect(q).toMatchObject({ kind: 'whole', set: 'ukbench', bbox_xyxy: [0, 0, expect.any(Number), expect.any(Number)] });
    }
    expect(existsSync(join(out, set.images[0].file))).toBe(true);
  });

  it('mixed: 1250 photos of both sets, each query with positives and junk only from its own set', () => {
    const dev = devOutside(devDir!);
    const set = mixedSet(dev, source(ukbDir!), out);
    expect(set.images).toHaveLength(1250);
    expect(new Set(set.images.map((i) => i.name)).size).toBe(1250);
    const from = new Map([...dev.images.map((i) => [i.name, 'dev'] as const), ...source(ukbDir!).images.map((i) => [i.name, 'ukbench'] as const)]);
    expect(set.queries.filter((q) => q.set === 'dev')).toHaveLength(36);
    expect(set.queries.filter((q) => q.set === 'ukbench')).toHaveLength(1000);
    for (const q of set.queries) for (const n of [...q.positives, ...q.junk]) expect(from.get(n)).toBe(q.set);
    // Every photo and query file is named relative to the built manifest's folder.
    for (const i of set.images) expect(existsSync(join(out, i.file))).toBe(true);
    expect(resolve(out, set.queries.find((q) => q.id === 'c.louvre_1')!.query_file!)).toBe(resolve(devDir!, 'queries/louvre_1-crop.png'));
  });

  it('sparse: seeded, 167 photos, few photos per landmark, no query photo or junk in the collection, crops as queries', () => {
    const dev = devOutside(devDir!), ukb = source(ukbDir!);
    const a = sparseSet(dev, ukb, out, 1), again = sparseSet(dev, ukb, out, 1), other = sparseSet(dev, ukb, out, 2);
    expect(again).toEqual(a);
    expect(other.images.map((i) => i.name)).not.toEqual(a.images.map((i) => i.name));
    for (const set of [a, other]) {
      expect(set.images).toHaveLength(SPARSE_DEFAULTS.photos);
      const names = new Set(set.images.map((i) => i.name));
      const banned = new Set(dev.queries.flatMap((q) => [...(q.image ? [q.image] : []), ...q.junk]));
      expect([...names].some((n) => banned.has(n))).toBe(false);
      expect(set.queries).toHaveLength(12);
      for (const q of set.queries) {
        expect(q.kind).toBe('crop');
        expect(q.query_file).toBeDefined();
        expect(q.junk).toEqual([]);
        const available = dev.queries.find((d) => d.id === q.id)!.positives.filter((n) => !banned.has(n)).length;
        expect(q.positives.length).toBeGreaterThanOrEqual(Math.min(SPARSE_DEFAULTS.minPositives, available));
        expect(q.positives.length).toBeLessThanOrEqual(SPARSE_DEFAULTS.maxPositives);
        expect(q.positives.every((n) => names.has(n))).toBe(true);
      }
      const landmark = new Set(set.queries.flatMap((q) => q.positives));
      expect(set.images.length - landmark.size).toBeGreaterThan(set.images.length / 2);
    }
  });
});

describe.skipIf(!devDir)('the landmark-distractor sparse set (sparse-lm) from ../shared', () => {
  const out = mkdtempSync(join(tmpdir(), 'eval-sets-lm-'));
  const dev = () => source(devDir!);
  const landmarkOf = (name: string) => name.split('_')[1];

  it('seeded: the same seed gives the same set and crops, another seed another', () => {
    const a = sparseLandmarkSet(dev(), out, 1);
    expect(sparseLandmarkSet(dev(), out, 1)).toEqual(a);
    expect(sparseLandmarkSet(dev(), out, 2).set.images).not.toEqual(a.set.images);
  });

  it('two target landmarks per seed, each landmark a target twice over seeds 1-5', () => {
    const targets = [1, 2, 3, 4, 5].flatMap((seed) => sparseLandmarkSet(dev(), out, seed).targets);
    expect(targets.slice(0, 2)).toEqual(['defense', 'eiffel']);
    const count = new Map<string, number>();
    targets.forEach((t) => count.set(t, (count.get(t) ?? 0) + 1));
    expect(Object.fromEntries(count)).toEqual({ defense: 2, eiffel: 2, invalides: 2, louvre: 2, moulinrouge: 2 });
  });

  it('queries: crops of held-aside good/ok photos of a target, never in the collection, never an official query or junk; positives: only that target', () => {
    const d = dev();
    const official = new Set(d.queries.map((q) => q.image));
    const junk = new Set(d.queries.flatMap((q) => q.junk));
    // By the queries' landmark (triomphe_5's positives are defense photos: it is not a landmark with enough photos).
    const positivesOf = new Map(d.queries.map((q) => [q.id.split('_')[0], new Set(q.positives)]));
    for (let seed = 1; seed <= 10; seed++) {
      const { set, crops, targets } = sparseLandmarkSet(d, out, seed);
      const names = new Set(set.images.map((i) => i.name));
      expect(set.images.length).toBeLessThanOrEqual(SPARSE_LM_DEFAULTS.photos);
      expect(set.images.length).toBeGreaterThanOrEqual(150);
      expect(set.queries).toHaveLength(SPARSE_LM_DEFAULTS.targets * SPARSE_LM_DEFAULTS.queriesPerTarget);
      expect(crops).toHaveLength(set.queries.length);
      set.queries.forEach((q, i) => {
        const photo = q.id.replace(/^lm\d+\./, '');
        const target = landmarkOf(photo);
        expect(targets).toContain(target);
        // The held-aside photo: a positive of its landmark's official queries, not junk, not an official query photo.
        expect(positivesOf.get(target)!.has(photo)).toBe(true);
        expect(official.has(photo) || junk.has(photo) || names.has(photo)).toBe(false);
        expect(q).toMatchObject({ kind: 'crop', set: 'sparse-lm', junk: [], query_file: crops[i].queryFile });
        // Positives: the target's photos in the collection, 3 to 17, all good/ok for it, none junk.
        expect(q.positives.length).toBeGreaterThanOrEqual(SPARSE_LM_DEFAULTS.minPositives);
        expect(q.positives.length).toBeLessThanOrEqual(SPARSE_LM_DEFAULTS.maxPositives);
        expect(q.positives.every((n) => names.has(n) && positivesOf.get(target)!.has(n) && !junk.has(n))).toBe(true);
        // Every collection photo of the target's ground truth is a positive: the rest are distractors of other landmarks.
        expect([...names].filter((n) => positivesOf.get(target)!.has(n)).sort()).toEqual([...q.positives].sort());
        // The crop: inside the photo, 50-80 % of each side, the box of the query file.
        const { width: W, height: H } = d.images.find((im) => im.name === photo)!;
        const { x1, y1, x2, y2 } = crops[i].box;
        expect(x1 >= 0 && y1 >= 0 && x2 <= W && y2 <= H).toBe(true);
        expect((x2 - x1) / W).toBeGreaterThanOrEqual(0.49);
        expect((x2 - x1) / W).toBeLessThanOrEqual(0.81);
        expect((y2 - y1) / H).toBeGreaterThanOrEqual(0.49);
        expect(q.bbox_xyxy).toEqual([0, 0, x2 - x1, y2 - y1]);
      });
      // Distractors: labelled neither positive nor junk for a target's queries (mostly the other landmarks' photos).
      const positives = new Set(set.queries.flatMap((q) => q.positives));
      const targetJunk = new Set(d.queries.filter((q) => targets.includes(q.id.split('_')[0])).flatMap((q) => q.junk));
      const distractors = [...names].filter((n) => !positives.has(n));
      expect(distractors.some((n) => targets.some((t) => positivesOf.get(t)!.has(n)) || targetJunk.has(n))).toBe(false);
      expect(distractors.filter((n) => !targets.includes(landmarkOf(n))).length).toBeGreaterThan(0.95 * distractors.length);
    }
  });
});

describe('query subset', () => {
  const queries = Array.from({ length: 100 }, (_, i) => ({ id: `q${i}`, set: i < 10 ? 'dev' : 'ukbench' }));
  it('draws at most N per query set, seeded, in manifest order', () => {
    const a = selectQueries(queries, 20, 1);
    expect(a.filter((q) => q.set === 'dev')).toHaveLength(10);
    expect(a.filter((q) => q.set === 'ukbench')).toHaveLength(20);
    expect(a.map((q) => Number(q.id.slice(1)))).toEqual([...a.map((q) => Number(q.id.slice(1)))].sort((x, y) => x - y));
    expect(selectQueries(queries, 20, 1)).toEqual(a);
    expect(selectQueries(queries, 20, 2)).not.toEqual(a);
    expect(selectQueries(queries, undefined, 1)).toEqual(queries);
  });
});

describe('N-S score', () => {
  it('counts the photos of the group in the top 4 of the full ranking', () => {
    const group = new Set(['a', 'b', 'c', 'd']);
    expect(nsScore(['a', 'b', 'c', 'd', 'x'], group)).toBe(4);
    expect(nsScore(['a', 'x', 'b', 'y', 'c', 'd'], group)).toBe(2);
    expect(nsScore(['x', 'y', 'z', 'w', 'a'], group)).toBe(0);
  });
});

describe('readManifest', () => {
  const write = (json: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    writeFileSync(join(dir, 'MANIFEST.json'), JSON.stringify(json));
    return join(dir, 'MANIFEST.json');
  };
  const image = (name: string) => ({ name, file: `${name}.jpg`, width: 4, height: 4 });
  const q = { id: 'q', image: 'a', bbox_xyxy: [0, 0, 4, 4], positives: ['b'], junk: [] };
  it('rejects repeated photo names and queries naming photos outside the list; reads N-S sets', async () => {
    await expect(readManifest(write({ images: [image('a'), image('a')], queries: [] }))).rejects.toThrow(/photo names repeat/);
    await expect(readManifest(write({ images: [image('a')], queries: [q] }))).rejects.toThrow(/names b, which is not in the image list/);
    expect((await readManifest(write({ images: [image('a'), image('b')], queries: [q], ns_score_sets: ['ukbench'] }))).nsScoreSets).toEqual(['ukbench']);
    expect((await readManifest(write({ images: [image('a'), image('b')], queries: [q], protocol: { ns_score: 'yes' } }))).nsScoreSets).toBe('all');
  });
});

describe('the app-default row', () => {
  it('searches with exactly the controls the app starts with, as the worker turns them into parameters', () => {
    const m = appDefaultMethod();
    expect(m.name).toBe(APP_DEFAULT);
    expect(TABLE_METHODS).toContain(APP_DEFAULT);
    // Whatever the run's NC, NC_re or R, the row's parameters are the app's.
    const run = { nc: 8, ncRerank: 3 };
    expect(paramsOf(m, run)).toEqual(searchParamsOf({ ...APP_DEFAULT_CONTROLS }));
    for (const [key, value] of Object.entries(APP_DEFAULT_CONTROLS)) expect(paramsOf(m, run)[key as keyof typeof APP_DEFAULT_CONTROLS]).toEqual(value);
    expect(validateSearchControls({ ...APP_DEFAULT_CONTROLS })).toEqual({ ...APP_DEFAULT_CONTROLS });
    expect(m.appQuery).toBe(true);
  });

  it('the worker gives the page APP_DEFAULT_CONTROLS and searches with them and searchParamsOf (one definition)', () => {
    const info = readFileSync(join(projectRoot, 'src/worker/services/engineInfo.ts'), 'utf8');
    const session = readFileSync(join(projectRoot, 'src/worker/services/querySession.ts'), 'utf8');
    expect(info).toMatch(/import \{ APP_DEFAULT_CONTROLS \} from '\.\.\/\.\.\/search\/defaults'/);
    expect(info).toContain('defaultControls: { ...APP_DEFAULT_CONTROLS }');
    expect(session).toMatch(/import \{ APP_DEFAULT_CONTROLS, queryFromStored, searchParamsOf \} from '\.\.\/\.\.\/search\/defaults'/);
    expect(session).toContain('validateSearchControls(request.controls ?? APP_DEFAULT_CONTROLS)');
    expect(session).toContain('...searchParamsOf(controls)');
    for (const file of ['src/worker/engine.ts', 'src/worker/services/engineInfo.ts', 'src/worker/services/querySession.ts']) {
      expect(readFileSync(join(projectRoot, file), 'utf8')).not.toMatch(/const APP_DEFAULT_CONTROLS/);
    }
  });

  it('a method from the command line', () => {
    expect(parseMethod('cw-ofa+sg50={"superGlobal":50}')).toEqual({ name: 'cw-ofa+sg50', db: 'ofa', params: { superGlobal: 50 } });
    expect(parseMethod('x={"db":"dba","qe":5}')).toEqual({ name: 'x', db: 'dba', params: { qe: 5 } });
    expect(() => parseMethod('x={bad')).toThrow(/not JSON/);
    expect(() => parseMethod('x={"db":"nope"}')).toThrow(/db must be/);
  });

  it('a method from its name: every step of the name, in any order, and nothing for a name that does not parse', () => {
    expect(methodFromName('cw-ona-nc8-s100+sg25k3b0.1rec+r50max+aqe10a2regrec20min0.6')).toEqual({
      name: 'cw-ona-nc8-s100+sg25k3b0.1rec+r50max+aqe10a2regrec20min0.6',
      db: 'ofa',
      params: {
        aggregation: 'online', nc: 8, onlineShortlist: 100, superGlobal: 25, superGlobalK: 3, superGlobalBeta: 0.1, superGlobalNeighbours: 'reciprocal',
        rerank: 50, rerankScore: 'max', qe: 10, qeAlpha: 2, qeSource: 'region', qeNeighbours: 'reciprocal', reciprocalK: 20, qeMinScore: 0.6,
      },
    });
    expect(methodFromName('cw-ofa+dba10+qe5gap')).toEqual({ name: 'cw-ofa+dba10+qe5gap', db: 'dba', params: { qe: 5, qeSource: 'global', qeNeighbours: 'gap' } });
    expect(methodFromName('cw-ofa+r100')?.params).toEqual({ rerank: 100, rerankScore: 'region' });
    for (const bad of ['cw-ofa-s100', 'cw-ofa+qe5a2', 'cw-ofa+nope', 'crow', 'cw-ofa+sg']) expect(methodFromName(bad)).toBeNull();
  });
});
