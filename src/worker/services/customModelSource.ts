/**
 * Reading a model's files: the folder of a shipped or cached model (model.json, labels.json and every weight file
 * it names), and the files of a model the user gives (chosen files, or a model.json URL on this site).
 */
import type { CustomModelSource } from '../../worker-api/api';

/** The weight file paths model.json lists ([] when it is not JSON). */
export function modelJsonPaths(modelJson: ArrayBuffer): string[] {
  try {
    const manifest = (JSON.parse(new TextDecoder().decode(modelJson)) as { weightsManifest?: { paths?: string[] }[] }).weightsManifest;
    return (manifest ?? []).flatMap((g) => g.paths ?? []);
  } catch {
    return [];
  }
}

/** model.json, labels.json and every weight file model.json names, read concurrently. */
export async function readModelFolder(read: (path: string) => Promise<ArrayBuffer>): Promise<Map<string, ArrayBuffer>> {
  const files = new Map<string, ArrayBuffer>();
  const modelJson = await read('model.json');
  files.set('model.json', modelJson);
  // Not JSON: no weight paths here; loadNetwork reports it.
  await Promise.all(['labels.json', ...modelJsonPaths(modelJson)].map(async (p) => files.set(p, await read(p))));
  return files;
}

/**
 * The files of a model the user gives: chosen files (model.json, weights, labels.json; matched by name), or a
 * model.json URL ON THIS SITE and the files next to it. Other sites are refused here (and by the CSP).
 */
export async function readCustomModelSource(source: CustomModelSource): Promise<{ files: Map<string, ArrayBuffer>; defaultName: string }> {
  const files = new Map<string, ArrayBuffer>();
  if (source.kind === 'files') {
    const list = [...source.files];
    const jsons = list.filter((f) => /\.json$/i.test(f.name) && f.name !== 'labels.json');
    const modelJson = list.find((f) => f.name === 'model.json') ?? (jsons.length === 1 ? jsons[0] : undefined);
    if (!modelJson) throw new Error('choose the model.json of a TensorFlow.js layers model, with its weight files (.bin) and, optionally, labels.json');
    files.set('model.json', await modelJson.arrayBuffer());
    for (const f of list) if (f !== modelJson) files.set(f.name, await f.arrayBuffer());
    const folder = (modelJson as File & { webkitRelativePath?: string }).webkitRelativePath?.split('/').slice(-2, -1)[0];
    return { files, defaultName: folder || modelJson.name.replace(/\.json$/i, '') || 'Custom model' };
  }
  let url: URL;
  try {
    url = new URL(source.url.trim(), self.location.href);
  } catch {
    throw new Error(`"${source.url}" is not a web address`);
  }
  if (url.origin !== self.location.origin) {
    throw new Error(
      `models can only be loaded from this site (${self.location.origin}): the app may not connect anywhere else, so that photos cannot leave this device. ` +
        "Download the model's files and choose them instead.",
    );
  }
  const get = async (u: URL, optional = false): Promise<ArrayBuffer | null> => {
    const res = await fetch(u);
    const html = (res.headers.get('content-type') ?? '').includes('text/html');
    if (!res.ok || html) {
      if (optional) return null;
      throw new Error(`${u.pathname}: ${res.ok ? 'not found (the site answered with a page)' : `HTTP ${res.status}`}`);
    }
    return res.arrayBuffer();
  };
  const modelJson = (await get(url))!;
  files.set('model.json', modelJson);
  for (const p of modelJsonPaths(modelJson)) {
    const b = await get(new URL(p, url), true);
    if (b) files.set(p, b);
  }
  const labels = await get(new URL('labels.json', url), true);
  if (labels) files.set('labels.json', labels);
  return { files, defaultName: url.pathname.split('/').filter(Boolean).slice(-2, -1)[0] ?? 'Custom model' };
}
