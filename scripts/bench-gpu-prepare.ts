/**
 * npm run bench:gpu:prepare
 *
 * Packs what the GPU benchmark needs on the lent GPU machine, which has no network and gets only this repository
 * (64 MiB in all, BENCHMARKS.md "GPU"), into two git-ignored folders that the device command carries:
 *
 *   .gpu-bench/node.xz                       this Node binary (it needs only glibc and libstdc++)
 *   .gpu-bench/webgpu/                       Dawn's Node bindings, npm package webgpu@WEBGPU_VERSION, linux-x64 only
 *                                            (dist/linux-x64/dawn.node.xz)
 *   .gpu-bench/bench-gpu.mjs                 scripts/bench-gpu.ts and its imports in one file (vite build, SSR)
 *   .gpu-bench/models/mobilenet_v1_0.75/     the real model (10 MB)
 *   .gpu-bench/models/resnet50/              model.json and labels.json only: its 98 MB of weights cannot travel
 *                                            and are generated there (scripts/lib/generatedWeights.ts)
 *   .gpu-bench/photos/                       the first 3 photos of ../shared/data/paris6k-mini-dev/jpg
 *   .gl/*.deb                                the Vulkan/EGL loaders, downloaded as the device README says
 *
 * Then it checks that the tree that travels (tracked and untracked files, plus these) fits 64 MiB. The downloads
 * (npm pack, apt-get download) and the xz of the Node binary are cached in .cache/gpu-bench.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import { projectRoot, sharedDir } from './lib/node';

/** The Dawn build checked here with Node 20 (it loads, and reports no adapter on a machine without Vulkan). */
export const WEBGPU_VERSION = '0.6.2';
const MiB = 1024 * 1024;
const LIMIT = 64 * MiB;

const root = projectRoot;
const data = join(root, '.gpu-bench');
const cache = join(root, '.cache', 'gpu-bench');
const log = (line: string) => process.stderr.write(`[bench:gpu:prepare] ${line}\n`);
const run = (cmd: string, args: string[], cwd = root) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

function size(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  return s.isDirectory() ? readdirSync(path).reduce((sum, f) => sum + size(join(path, f)), 0) : s.size;
}

/** xz -9 of `src` into `dest`, through a cache file named by `key`. */
function xzCached(src: string, dest: string, key: string): void {
  const cached = join(cache, `${key}.xz`);
  if (!existsSync(cached)) {
    log(`xz ${src} (once; a minute or two)`);
    writeFileSync(`${cached}.tmp`, execFileSync('xz', ['-9', '-T0', '-c', src], { maxBuffer: 256 * MiB }));
    execFileSync('mv', [`${cached}.tmp`, cached]);
  }
  copyFileSync(cached, dest);
}

function nodeBinary(): void {
  const libs = run('ldd', [process.execPath]);
  const foreign = libs.split('\n').filter((l) => /=>/.test(l) && !/(libc|libm|libdl|libpthread|libstdc\+\+|libgcc_s|ld-linux)[.-]/.test(l));
  if (foreign.length) throw new Error(`${process.execPath} needs libraries the GPU machine may not have:\n${foreign.join('\n')}\nUse an official Node build.`);
  xzCached(process.execPath, join(data, 'node.xz'), `node-${process.version}`);
}

function dawn(): void {
  const tgz = join(cache, `webgpu-${WEBGPU_VERSION}.tgz`);
  if (!existsSync(tgz)) {
    log(`npm pack webgpu@${WEBGPU_VERSION}`);
    run('npm', ['pack', '--silent', `webgpu@${WEBGPU_VERSION}`, '--pack-destination', cache]);
  }
  const tmp = join(cache, 'webgpu-unpacked'); // scripts/lib/dawn.ts DAWN_DIRS
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', tmp, 'package/index.js', 'package/package.json', 'package/LICENSE.md', 'package/dist/linux-x64/dawn.node']);
  const dest = join(data, 'webgpu');
  mkdirSync(join(dest, 'dist', 'linux-x64'), { recursive: true });
  for (const f of ['index.js', 'package.json', 'LICENSE.md']) copyFileSync(join(tmp, 'package', f), join(dest, f));
  // Only the .xz travels (4.9 MB instead of 21.5); runs here use the unpacked copy in .cache (scripts/lib/dawn.ts).
  xzCached(join(tmp, 'package', 'dist', 'linux-x64', 'dawn.node'), join(dest, 'dist', 'linux-x64', 'dawn.node.xz'), `dawn-${WEBGPU_VERSION}`);
}

async function bundle(): Promise<void> {
  log('bundling scripts/bench-gpu.ts (vite build --ssr)');
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    publicDir: false, // not public/ (it holds the models, ResNet-50's weights too)
    ssr: { noExternal: true, target: 'node' },
    build: {
      ssr: join(root, 'scripts', 'bench-gpu.ts'),
      outDir: data,
      emptyOutDir: false,
      target: 'node20',
      minify: false,
      sourcemap: false,
      rolldownOptions: {
        output: {
          entryFileNames: 'bench-gpu.mjs',
          format: 'es',
          codeSplitting: false,
          // The CommonJS dependencies (jpeg-js, pngjs, ...) require Node's built-ins.
          banner: "import { createRequire as __cwCreateRequire } from 'node:module'; const require = __cwCreateRequire(import.meta.url);",
        },
      },
    },
  });
}

function modelsAndPhotos(): void {
  const models = join(root, 'public', 'models');
  const mobilenet = join(models, 'mobilenet_v1_0.75');
  const resnet = join(models, 'resnet50');
  if (!existsSync(join(mobilenet, 'model.json')) || !existsSync(join(resnet, 'model.json'))) throw new Error('public/models is incomplete: run `npm run fetch-models`');
  cpSync(mobilenet, join(data, 'models', 'mobilenet_v1_0.75'), { recursive: true });
  mkdirSync(join(data, 'models', 'resnet50'), { recursive: true });
  for (const f of ['model.json', 'labels.json', 'LICENSE.txt']) if (existsSync(join(resnet, f))) copyFileSync(join(resnet, f), join(data, 'models', 'resnet50', f));
  const shared = sharedDir();
  const jpg = shared && join(shared, 'data', 'paris6k-mini-dev', 'jpg');
  if (!jpg || !existsSync(jpg)) throw new Error('../shared/data/paris6k-mini-dev/jpg is missing: the benchmark needs three real dev photos');
  mkdirSync(join(data, 'photos'), { recursive: true });
  for (const f of readdirSync(jpg).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, 3)) copyFileSync(join(jpg, f), join(data, 'photos', f));
}

/** The device README's recipe for the Vulkan/EGL loaders (amd64 .debs, unpacked there with dpkg -x). */
function vulkanLoaders(): void {
  const gl = join(root, '.gl');
  if (existsSync(gl) && readdirSync(gl).some((f) => f.startsWith('libvulkan1_'))) return;
  log('apt-get download of the Vulkan/EGL loaders into .gl/ (device README recipe)');
  mkdirSync(gl, { recursive: true });
  mkdirSync('/tmp/amd64/partial', { recursive: true });
  const o = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', '-oDir::State::Lists=/tmp/amd64'];
  run('apt-get', [...o, 'update']);
  run('apt-get', [...o, 'download', 'libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'], gl);
}

/** Bytes of the tree that travels: tracked files, untracked files git does not ignore, and the carried folders. */
function travellingBytes(): { total: number; parts: Record<string, number> } {
  const listed = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0').filter(Boolean);
  const tree = listed.reduce((s, f) => s + size(join(root, f)), 0);
  const parts: Record<string, number> = { 'repository files': tree };
  for (const f of readdirSync(data)) parts[`.gpu-bench/${f}`] = size(join(data, f));
  parts['.gl'] = size(join(root, '.gl'));
  return { total: Object.values(parts).reduce((s, b) => s + b, 0), parts };
}

async function main(): Promise<void> {
  mkdirSync(cache, { recursive: true });
  rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { recursive: true });
  nodeBinary();
  dawn();
  modelsAndPhotos();
  await bundle();
  vulkanLoaders();
  const { total, parts } = travellingBytes();
  for (const [k, v] of Object.entries(parts)) log(`${(v / MiB).toFixed(1).padStart(6)} MiB  ${k}`);
  log(`${(total / MiB).toFixed(1).padStart(6)} MiB  in all (limit 64 MiB)`);
  if (total > LIMIT) throw new Error('too much would travel: remove untracked files from the checkout, or carry less');
  log(`ready: the device command of BENCHMARKS.md ("GPU") carries .gl and .gpu-bench (${resolve(data)})`);
}

main().catch((e: unknown) => {
  console.error(`bench:gpu:prepare: ${(e as Error).message}`);
  process.exit(1);
});
