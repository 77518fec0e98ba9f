/**
 * Picks and initialises the tfjs backend, on a page or inside a module Web Worker.
 *
 *   const active = await initBackend('auto');   // webgpu, else webgl, else wasm (else cpu)
 *
 * Notes (measured, see ../shared/docs/BROWSER-TESTING.md):
 * - The wasm binaries are imported with Vite's `?url`, so they are served (and hashed into dist/) as files;
 *   tfjs' default lookup asks the site root and gets index.html back.
 * - wasm threads: ./wasmThreads.ts (the threaded build where the context is cross-origin isolated).
 * - The webgpu backend's own factory requests the adapter without `forceFallbackAdapter` and never checks
 *   `isFallbackAdapter`, so software adapters (SwiftShader in headless Chromium) are accepted.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { configureWasmThreads } from './wasmThreads';
import { patchWebgpuCastToFloat } from './webgpuCast';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export type BackendPreference = BackendName | 'auto';

/** The order 'auto' tries; cpu is the last resort so a page always gets a working backend. */
const AUTO_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface InitBackendOptions {
  /**
   * For an explicit preference: throw when that backend cannot be initialised (default false: fall back to
   * the 'auto' order and return what became active). Tests that must prove a backend set this.
   */
  strict?: boolean;
  /** Told about each backend that was tried and could not be used, with the reason (for the user). */
  onUnavailable?: (name: BackendName, reason: string) => void;
}

let configured = false;
function configureOnce(): void {
  if (configured) return;
  configured = true;
  patchWebgpuCastToFloat();
  configureWasmThreads();
  setWasmPaths({
    'tfjs-backend-wasm.wasm': absolute(wasmUrl),
    'tfjs-backend-wasm-simd.wasm': absolute(wasmSimdUrl),
    'tfjs-backend-wasm-threaded-simd.wasm': absolute(wasmThreadedSimdUrl),
  });
}

/** `?url` gives a root-relative path; inside a worker it must resolve against the site, not the worker script. */
function absolute(url: string): string {
  return new URL(url, self.location.href).href;
}

/** Tries one backend; true when it is active, else the reason it is not (also logged). */
async function trySetBackend(name: BackendName): Promise<true | string> {
  if (tf.findBackendFactory(name) == null) {
    console.info(`[backend] ${name}: not available in this context`);
    return name === 'webgpu' ? 'this browser has no WebGPU' : 'not available in this context';
  }
  if (name === 'webgpu') {
    // tfjs' factory fails with a TypeError when there is no adapter: say what that means.
    const adapter = await webgpuAdapterInfo().catch(() => null);
    if (!adapter) {
      console.info('[backend] webgpu: no adapter');
      return 'no WebGPU adapter (WebGPU is turned off, or no GPU is usable)';
    }
  }
  try {
    if (!(await tf.setBackend(name))) return 'it failed to start';
    await tf.ready();
    return tf.getBackend() === name ? true : 'it failed to start';
  } catch (err) {
    console.warn(`[backend] ${name} failed to initialise:`, err);
    return `it failed to start (${err instanceof Error ? err.message : String(err)})`;
  }
}

/**
 * Registers webgpu, webgl, wasm and cpu, makes `preferred` active (or, for 'auto', the first of
 * webgpu -> webgl -> wasm -> cpu that initialises) and returns the name of the backend actually active.
 */
export async function initBackend(preferred: BackendPreference, options: InitBackendOptions = {}): Promise<string> {
  configureOnce();
  const tried = async (name: BackendName) => {
    const result = await trySetBackend(name);
    if (result !== true) options.onUnavailable?.(name, result);
    return result === true;
  };
  if (preferred !== 'auto') {
    if (await tried(preferred)) return tf.getBackend();
    if (options.strict) throw new Error(`tfjs backend '${preferred}' could not be initialised in this browser`);
    console.warn(`[backend] ${preferred} unavailable; falling back to ${AUTO_ORDER.join(' -> ')}`);
  }
  for (const name of AUTO_ORDER) {
    if (name !== preferred && (await tried(name))) return tf.getBackend();
  }
  throw new Error('no tfjs backend could be initialised');
}

/**
 * After the GPU device was lost: drops the active backend (its tensors are gone with the device), registers its
 * factory again and starts a fresh one (`preferred`, falling back as initBackend does). Returns the backend now
 * active. Dispose every tensor of the old backend (the network's weights) before calling this.
 */
export async function restartBackend(preferred: BackendPreference, options: InitBackendOptions = {}): Promise<string> {
  const name = tf.getBackend();
  const factory = name ? tf.findBackendFactory(name) : null;
  if (name && factory) {
    try {
      tf.removeBackend(name);
    } catch (e) {
      console.warn(`[backend] removing ${name}:`, e);
    }
    tf.registerBackend(name, factory, name === 'webgpu' ? 3 : 2);
  }
  return initBackend(preferred, options);
}

interface MinimalGpuDevice {
  lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
}

const activeGpuDevice = (): MinimalGpuDevice | null =>
  tf.getBackend() === 'webgpu' ? ((tf.backend() as unknown as { device?: MinimalGpuDevice }).device ?? null) : null;

/** Calls `onLost` (with the browser's reason) if the WebGPU device in use is lost; nothing on other backends. */
export function watchGpuDevice(onLost: (reason: string) => void): void {
  activeGpuDevice()?.lost.then((info) => onLost(info.message || info.reason || 'the GPU device was lost'));
}

/** Test hook: destroys the WebGPU device in use, as a driver reset or a GPU removal would. False if not on webgpu. */
export function destroyGpuDevice(): boolean {
  const device = activeGpuDevice();
  device?.destroy();
  return !!device;
}

/** What the browser says about its WebGPU adapter (SwiftShader here: vendor google, isFallbackAdapter true). */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

interface MinimalGpuAdapter {
  info?: Partial<WebGpuAdapterInfo>;
  isFallbackAdapter?: boolean;
}
interface MinimalGpu {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<MinimalGpuAdapter | null>;
}

/** The adapter WebGPU gives (the same request tfjs makes), or null when WebGPU is missing in this context. */
export async function webgpuAdapterInfo(): Promise<WebGpuAdapterInfo | null> {
  const gpu = (globalThis.navigator as { gpu?: MinimalGpu } | undefined)?.gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    // Newer Chromium moved the flag onto GPUAdapterInfo; older ones keep it on the adapter.
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Is a GPU backend a real GPU? ('auto' never picks a software-emulated GPU when wasm is there: it is slower)

/** Renderer, adapter or driver names of GPUs emulated on the CPU: slower than wasm for these networks. */
const SOFTWARE_GPU = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|gdi generic|mesa offscreen/i;

/** A software GPU's short name as people know it, e.g. "SwiftShader", from a renderer or adapter description. */
export function softwareGpuName(text: string): string | null {
  const m = SOFTWARE_GPU.exec(text);
  if (!m) return null;
  const known: Record<string, string> = { swiftshader: 'SwiftShader', llvmpipe: 'llvmpipe', lavapipe: 'lavapipe', softpipe: 'softpipe' };
  return known[m[0].toLowerCase()] ?? text.trim();
}

/** What WebGL says about its renderer (WEBGL_debug_renderer_info when the browser gives it), read on an OffscreenCanvas. */
interface WebGlRendererInfo {
  vendor: string;
  renderer: string;
  /** The browser refused a context with failIfMajorPerformanceCaveat: it knows the renderer is slow (software). */
  majorPerformanceCaveat: boolean;
}

type GlContext = WebGL2RenderingContext | WebGLRenderingContext;

function glContext(options: WebGLContextAttributes): GlContext | null {
  if (typeof OffscreenCanvas === 'undefined') return null;
  const canvas = new OffscreenCanvas(1, 1);
  return (canvas.getContext('webgl2', options) ?? canvas.getContext('webgl', options)) as GlContext | null;
}

function releaseGl(gl: GlContext): void {
  gl.getExtension('WEBGL_lose_context')?.loseContext();
}

/** The WebGL renderer of this context (a worker too), or null when there is no WebGL. */
function webglRendererInfo(): WebGlRendererInfo | null {
  const gl = glContext({});
  if (!gl) return null;
  try {
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const vendor = String(gl.getParameter(debug ? debug.UNMASKED_VENDOR_WEBGL : gl.VENDOR) ?? '');
    const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    const fast = glContext({ failIfMajorPerformanceCaveat: true });
    if (fast) releaseGl(fast);
    return { vendor, renderer, majorPerformanceCaveat: !fast };
  } finally {
    releaseGl(gl);
  }
}

/** One GPU backend as the browser describes it: there or not, and a software emulator or not. */
export interface GpuSignal {
  name: 'webgpu' | 'webgl';
  /** False: this browser does not offer it (the reason says why). */
  available: boolean;
  /** A software emulator (fallback adapter, or a software renderer's name). */
  software: boolean;
  /** e.g. "google swiftshader (fallback adapter)", "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...))". */
  description: string;
  /** Why it is unavailable, or the software GPU's name (e.g. "SwiftShader"). */
  reason: string;
}

/** What this browser says about its WebGPU adapter and WebGL renderer (no backend is started). */
export async function gpuSignals(): Promise<GpuSignal[]> {
  const signals: GpuSignal[] = [];
  const a = tf.findBackendFactory('webgpu') ? await webgpuAdapterInfo().catch(() => null) : null;
  if (!a) {
    signals.push({ name: 'webgpu', available: false, software: false, description: '', reason: 'no WebGPU adapter (WebGPU is turned off, or no GPU is usable)' });
  } else {
    const description = [a.vendor, a.architecture || a.device || a.description].filter(Boolean).join(' ') + (a.isFallbackAdapter ? ' (fallback adapter)' : '');
    const named = softwareGpuName(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
    const software = a.isFallbackAdapter || named !== null;
    signals.push({ name: 'webgpu', available: true, software, description, reason: software ? (named ?? 'a fallback adapter') : '' });
  }
  let gl: WebGlRendererInfo | null;
  try {
    gl = webglRendererInfo();
  } catch {
    gl = null;
  }
  if (!gl) {
    signals.push({ name: 'webgl', available: false, software: false, description: '', reason: 'no WebGL in this context' });
  } else {
    const named = softwareGpuName(`${gl.vendor} ${gl.renderer}`);
    const software = named !== null || gl.majorPerformanceCaveat;
    signals.push({ name: 'webgl', available: true, software, description: gl.renderer || gl.vendor, reason: software ? (named ?? 'a renderer the browser marks as slow') : '' });
  }
  return signals;
}
