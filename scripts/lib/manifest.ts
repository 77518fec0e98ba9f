/** An Oxford/Paris-style dataset manifest (the format of paris6k-mini-dev/MANIFEST.json), read and checked. */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ManifestQuery } from './evalQueries';

export interface Manifest {
  name: string;
  dir: string;
  images: { name: string; file: string; width: number; height: number }[];
  queries: ManifestQuery[];
  /** The manifest this one was built from (scripts/make-outside-queries.ts). */
  derivedFrom?: string;
}

export async function readManifest(path: string): Promise<Manifest> {
  let json: Partial<Manifest> & { image_dir?: string };
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`manifest ${path} could not be read: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(json.images) || json.images.length === 0) throw new Error(`manifest ${path} lists no images`);
  const queries = json.queries ?? [];
  const names = new Set(json.images.map((i) => i.name));
  for (const q of queries) {
    if ((q.image === undefined) === (q.query_file === undefined)) throw new Error(`manifest ${path}: query ${q.id} needs exactly one of image and query_file`);
    if (q.image !== undefined && !names.has(q.image)) throw new Error(`manifest ${path}: query ${q.id} image ${q.image} is not in the image list`);
    if (q.query_file !== undefined && !existsSync(join(dirname(path), q.query_file))) {
      throw new Error(`manifest ${path}: query ${q.id} query_file ${q.query_file} does not exist (paths are relative to the manifest)`);
    }
    if (!Array.isArray(q.bbox_xyxy) || q.bbox_xyxy.length !== 4) throw new Error(`manifest ${path}: query ${q.id} has no bbox_xyxy`);
    if (!q.positives?.length) throw new Error(`manifest ${path}: query ${q.id} has no positives in the image list`);
  }
  return { name: json.name ?? path, dir: dirname(path), images: json.images, queries, derivedFrom: (json as { derived_from?: string }).derived_from };
}
