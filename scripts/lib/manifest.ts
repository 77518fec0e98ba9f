/** An Oxford/Paris-style dataset manifest (the format of paris6k-mini-dev/MANIFEST.json), read and checked. */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface Manifest {
  name: string;
  dir: string;
  images: { name: string; file: string; width: number; height: number }[];
  queries: { id: string; image: string; bbox_xyxy: [number, number, number, number]; positives: string[]; junk: string[] }[];
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
    if (!names.has(q.image)) throw new Error(`manifest ${path}: query ${q.id} image ${q.image} is not in the image list`);
    if (!Array.isArray(q.bbox_xyxy) || q.bbox_xyxy.length !== 4) throw new Error(`manifest ${path}: query ${q.id} has no bbox_xyxy`);
    if (!q.positives?.length) throw new Error(`manifest ${path}: query ${q.id} has no positives in the image list`);
  }
  return { name: json.name ?? path, dir: dirname(path), images: json.images, queries };
}
