/**
 * WebGPU in Node for the GPU benchmark (scripts/bench-gpu.ts): Dawn's Node bindings (npm package `webgpu`, its
 * prebuilt dist/linux-x64/dawn.node, which needs only glibc and, at run time, a Vulkan loader and driver) drive
 * @tensorflow/tfjs-backend-webgpu. tfjs' own webgpu factory only registers when `navigator.gpu` exists at import time
 * (never in Node 20) and takes whatever adapter comes, software ones too; here the adapter is checked first and the
 * tfjs backend is registered on it.
 *
 * The package is NOT a dependency (133 MB unpacked for five platforms): `npm run bench:gpu:prepare` puts its
 * linux-x64 part into .gpu-bench/webgpu/ (see scripts/bench-gpu-prepare.ts).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { patchWebgpuCastToFloat } from '../../src/model/webgpuCast';

/** What Dawn says about an adapter (GPUAdapterInfo). */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

/** The part of a GPUAdapter used here (the package's types are not installed: it is no dependency). */
interface DawnAdapter {
  info: Partial<GpuAdapterInfo>;
  isFallbackAdapter?: boolean;
  features: ReadonlySet<string>;
  limits: Record<string, number>;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<unknown>;
}
interface DawnModule {
  create(options: string[]): { requestAdapter(options?: { powerPreference?: string }): Promise<DawnAdapter | null> };
  globals: Record<string, unknown>;
}

/** Exit codes of scripts/bench-gpu.ts, so the device command can tell the cases apart. */
const EXIT = { noDawn: 2, noAdapter: 3, softwareAdapter: 4 } as const;

export class GpuUnavailableError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Names of software (CPU-emulated) GPU drivers, for adapters that do not say isFallbackAdapter. */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software rasterizer|microsoft basic render/i;

/**
 * Whether the adapter is a real GPU: null when it is, else why not. Software adapters (SwiftShader, lavapipe, ...)
 * run WebGPU on the CPU; their figures must never be reported as GPU figures.
 */
export function softwareAdapterReason(info: GpuAdapterInfo): string | null {
  if (info.isFallbackAdapter) return 'it is a fallback adapter (isFallbackAdapter: a software implementation on the CPU)';
  const text = [info.vendor, info.architecture, info.device, info.description].join(' ');
  const m = SOFTWARE.exec(text);
  return m ? `its driver is ${m[0]}, a software implementation on the CPU` : null;
}

export const describeAdapter = (i: GpuAdapterInfo): string =>
  [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') + (i.isFallbackAdapter ? ' (fallback adapter)' : '');

/**
 * Where Dawn's package may be, relative to the repository: the folder the device command unpacks dawn.node into,
 * then the unpacked download that `npm run bench:gpu:prepare` keeps here.
 */
export const DAWN_DIRS = ['.gpu-bench/webgpu', '.cache/gpu-bench/webgpu-unpacked/package'];

/** Loads dawn.node from the first of `dirs` that holds the package with its linux-x64 binary. */
export async function loadDawn(dirs: string[] = DAWN_DIRS): Promise<{ dawn: DawnModule; dir: string }> {
  const dir = dirs.find((d) => existsSync(join(d, 'index.js')) && existsSync(join(d, 'dist', `${process.platform}-${process.arch}`, 'dawn.node')));
  if (!dir) {
    throw new GpuUnavailableError(
      `Dawn (npm package webgpu) for ${process.platform}-${process.arch} is not in ${dirs.join(' or ')}: run \`npm run bench:gpu:prepare\` first.`,
      EXIT.noDawn,
    );
  }
  return { dawn: (await import(pathToFileURL(resolve(dir, 'index.js')).href)) as DawnModule, dir };
}

export interface GpuSetup {
  info: GpuAdapterInfo;
  /** Why the adapter is software, when it is and --allow-software let it through; null for a GPU. */
  software: string | null;
}

/**
 * Finds the adapter (high-performance preference, as tfjs asks), refuses it when it is software unless
 * `allowSoftware`, registers tfjs' webgpu backend on it and makes it the active backend. `dawnOptions`: Dawn's own
 * options, e.g. 'backend=vulkan' or 'adapter=NVIDIA H200'.
 */
export async function useDawnWebgpu(dawn: DawnModule, options: { allowSoftware: boolean; dawnOptions?: string[] }): Promise<GpuSetup> {
  Object.assign(globalThis, dawn.globals); // GPUBufferUsage, GPUMapMode, ... which tfjs reads as globals
  const gpu = dawn.create(options.dawnOptions ?? []);
  // tfjs' WebGPUBackend refuses to start unless navigator.gpu exists (Node 20 has no navigator; 21+ has one).
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new GpuUnavailableError(
      'no WebGPU adapter: Dawn found no usable Vulkan driver (no libvulkan.so.1, or no GPU driver behind it; see the ' +
        'lines Dawn printed above). This benchmark needs a GPU machine: see BENCHMARKS.md, "GPU".',
      EXIT.noAdapter,
    );
  }
  const raw = adapter.info ?? {};
  const info: GpuAdapterInfo = {
    vendor: raw.vendor ?? '',
    architecture: raw.architecture ?? '',
    device: raw.device ?? '',
    description: raw.description ?? '',
    isFallbackAdapter: Boolean(raw.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
  const software = softwareAdapterReason(info);
  if (software && !options.allowSoftware) {
    throw new GpuUnavailableError(
      `refusing the WebGPU adapter "${describeAdapter(info)}": ${software}. Its figures would not be GPU figures. ` +
        'Pass --allow-software to run anyway (the report then says SOFTWARE ADAPTER, NOT A GPU).',
      EXIT.softwareAdapter,
    );
  }
  // The device as tfjs' own factory asks for it (tfjs-backend-webgpu 4.22 src/base.ts).
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f));
  const l = adapter.limits;
  const requiredLimits = Object.fromEntries(
    ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup'].map((k) => [k, l[k]]),
  );
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu'); // never tfjs' own, unchecked factory
  tf.registerBackend(
    'webgpu',
    async () => {
      const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
      return new WebGPUBackend(device as ConstructorParameters<typeof WebGPUBackend>[0], raw as ConstructorParameters<typeof WebGPUBackend>[1]);
    },
    3,
  );
  patchWebgpuCastToFloat();
  if (!(await tf.setBackend('webgpu'))) throw new Error('the tfjs webgpu backend failed to start on this adapter');
  await tf.ready();
  return { info, software };
}
