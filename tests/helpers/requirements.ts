/**
 * The one rule for tests that need something the repository does not hold (../shared's photos, a model that
 * scripts/fetch-models.mjs put in public/models, Chromium, python3 with NumPy): when it is missing, outside CI
 * the tests that need it are skipped with a console message saying why; under CI=true they FAIL with that reason,
 * so a CI run can never pass with them unrun.
 *
 *   describe.skipIf(!needs('python3 with NumPy', python !== null, 'install Debian python3-numpy'))('...', () => {...});
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS, type ModelId } from '../../src/model/adapters';
import { projectRoot, sharedDir, sharedDirCandidates } from '../../scripts/lib/node';

/** CI is on when the CI variable is set to anything but '', '0' or 'false'. */
export function inCI(): boolean {
  const v = (process.env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}

/**
 * True when `available`. Otherwise: under CI throws `CI=true but <what> is missing: <reason>`; outside CI warns
 * that the tests needing it are skipped, and returns false (for `describe.skipIf(!needs(...))`).
 */
export function needs(what: string, available: boolean, reason: string): boolean {
  if (available) return true;
  if (inCI()) throw new Error(`CI=true but ${what} is missing: ${reason}`);
  console.warn(`[tests] SKIPPING the tests that need ${what}: it is missing: ${reason} (with CI=true they fail instead)`);
  return false;
}

/** The folder of a data set in ../shared/data (real photos and MANIFEST.json), or null when it is missing (see needs()). */
function needsSharedSet(name: string): string | null {
  const shared = sharedDir();
  const dir = shared && join(shared, 'data', name);
  const where = sharedDirCandidates().map((d) => join(d, 'data', name, 'MANIFEST.json')).join(' nor ');
  const how = process.env.CW_SHARED_DIR ? `CW_SHARED_DIR=${process.env.CW_SHARED_DIR}` : 'set CW_SHARED_DIR to look elsewhere';
  const ok = needs(`../shared/data/${name}`, !!dir && existsSync(join(dir, 'MANIFEST.json')), `there is no ${where} (${how})`);
  return ok ? dir : null;
}

/** The folder of paris6k-mini-dev, or null when it is missing (see needs()). */
export const needsDevSet = (): string | null => needsSharedSet('paris6k-mini-dev');

/** The folder of ukbench-mini (1,000 UKBench photos), or null when it is missing (see needs()). */
export const needsUkbenchSet = (): string | null => needsSharedSet('ukbench-mini');

/** What is missing of a model's files in public/models (model.json, labels.json, each weight file), or null. */
function missingModelFiles(id: ModelId): string | null {
  const dir = join(projectRoot, 'public', MODELS[id].folder);
  const modelJson = join(dir, 'model.json');
  if (!existsSync(modelJson)) return `${modelJson} does not exist`;
  if (!existsSync(join(dir, 'labels.json'))) return `${join(dir, 'labels.json')} does not exist`;
  let paths: string[];
  try {
    const manifest = (JSON.parse(readFileSync(modelJson, 'utf8')) as { weightsManifest: { paths: string[] }[] }).weightsManifest;
    paths = manifest.flatMap((g) => g.paths);
  } catch (e) {
    return `${modelJson} is not a model.json with a weightsManifest (${(e as Error).message})`;
  }
  const absent = paths.filter((p) => !existsSync(join(dir, p)));
  return absent.length ? `${absent.length} of its ${paths.length} weight files are not in ${dir} (first: ${absent[0]})` : null;
}

/** True when every one of these models is complete in public/models; see needs() for when one is not. */
export function needsModels(...ids: ModelId[]): boolean {
  return ids
    .map((id) => {
      const missing = missingModelFiles(id);
      return needs(`${MODELS[id].name} in public/${MODELS[id].folder}`, missing === null, `${missing}: run \`npm run fetch-models\` and read what it says`);
    })
    .every(Boolean);
}
