/** An Oxford/Paris-style dataset manifest (the format of paris6k-mini-dev/MANIFEST.json), read and checked. */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ManifestQuery } from './evalQueries';

export interface Manifest {
  name: string;
  dir: string;
  /** `file` is relative to the manifest's folder (a collection of several sets points into each set's folder). */
  images: { name: string; file: string; width: number; height: number }[];
  queries: ManifestQuery[];
  /** The manifest this one was built from (scripts/make-outside-queries.ts). */
  derivedFrom?: string;
  /** The objects, when the set lists them (UKBench: 4 photos each). */
  groups?: string[][];
  /**
   * Queries that also get the UKBench N-S score (photos of their group, the query included, in the top 4): the sets
   * named by `ns_score_sets`, or every query of a manifest whose protocol defines `ns_score`; none otherwise.
   */
  nsScoreSets?: string[] | 'all' | null;
}

export async function readManifest(path: string): Promise<Manifest> {
  let json: Partial<Manifest> & { derived_from?: string; ns_score_sets?: string[]; protocol?: { ns_score?: string } };
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`manifest ${path} could not be read: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(json.images) || json.images.length === 0) throw new Error(`manifest ${path} lists no images`);
  const queries = json.queries ?? [];
  const names = new Set(json.images.map((i) => i.name));
  // Features are cached by photo name: two photos of one name would share (wrong) features.
  if (names.size !== json.images.length) throw new Error(`manifest ${path}: photo names repeat (${json.images.length} photos, ${names.size} names)`);
  for (const q of queries) {
    if ((q.image === undefined) === (q.query_file === undefined)) throw new Error(`manifest ${path}: query ${q.id} needs exactly one of image and query_file`);
    if (q.image !== undefined && !names.has(q.image)) throw new Error(`manifest ${path}: query ${q.id} image ${q.image} is not in the image list`);
    if (q.query_file !== undefined && !existsSync(join(dirname(path), q.query_file))) {
      throw new Error(`manifest ${path}: query ${q.id} query_file ${q.query_file} does not exist (paths are relative to the manifest)`);
    }
    if (!Array.isArray(q.bbox_xyxy) || q.bbox_xyxy.length !== 4) throw new Error(`manifest ${path}: query ${q.id} has no bbox_xyxy`);
    if (!q.positives?.length) throw new Error(`manifest ${path}: query ${q.id} has no positives in the image list`);
    const stray = [...q.positives, ...(q.junk ?? [])].find((n) => !names.has(n));
    if (stray) throw new Error(`manifest ${path}: query ${q.id} names ${stray}, which is not in the image list`);
  }
  return {
    name: json.name ?? path,
    dir: dirname(path),
    images: json.images,
    queries: queries.map((q) => ({ ...q, junk: q.junk ?? [] })),
    derivedFrom: json.derived_from,
    groups: json.groups,
    nsScoreSets: json.ns_score_sets ?? (json.protocol?.ns_score ? 'all' : null),
  };
}

/** Whether the query gets the N-S score (Manifest.nsScoreSets). */
export const hasNsScore = (m: Pick<Manifest, 'nsScoreSets'>, q: Pick<ManifestQuery, 'set'>): boolean =>
  m.nsScoreSets === 'all' || (!!m.nsScoreSets && m.nsScoreSets.includes(q.set ?? ''));

/**
 * UKBench's N-S score of one ranking: how many of the query's group (its positives and the query photo itself) are in
 * the top 4 of the full ranked list (junk included), 0 to 4; its mean over the queries is the published score.
 */
export function nsScore(ranked: readonly string[], group: ReadonlySet<string>): number {
  return ranked.slice(0, 4).filter((n) => group.has(n)).length;
}
