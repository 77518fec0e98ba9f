/**
 * Gpu runtime: the tfjs backend this worker runs on — starting it (and why it is not the first choice), reading
 * results back without hanging when a WebGPU device is lost, and starting a fresh backend after such a loss.
 */
import { destroyGpuDevice, initBackend, restartBackend, watchGpuDevice, webgpuAdapterInfo, type BackendName, type InitBackendOptions } from '../../model/backend';
import { requestWasmThreads, wasmThreadCount } from '../../model/wasmThreads';
import type { BackendChoice } from '../api';
import { noop, type Emit } from './context';

export const BACKEND_NAMES: Record<string, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WebAssembly (wasm)', cpu: 'plain JavaScript (cpu, slow)' };
export const backendName = (b: string): string => BACKEND_NAMES[b] ?? b;

/** The GPU device went away (driver reset, GPU removed, or destroyed by the test hook). */
export class GpuLostError extends Error {
  constructor(reason: string) {
    super(`the GPU device was lost (${reason})`);
    this.name = 'GpuLostError';
  }
}

export class GpuRuntime {
  backend = '';
  requested: BackendChoice = 'auto';
  /** WebGPU adapter, e.g. "google swiftshader (fallback adapter)"; null when not on webgpu. */
  adapterText: string | null = null;
  /** Why the backend is not the first choice; null when it is. */
  note: string | null = null;
  /** Set (with the browser's reason) when the WebGPU device in use is lost; `lostSignal` resolves then. */
  private lost: string | null = null;
  private lostSignal: Promise<string> = new Promise(noop);
  private loseAfterNextForward = false;
  /** What holds tensors of the backend: told to drop them when the device is lost (they went with it). */
  private readonly holders: (() => void)[] = [];

  constructor(private readonly emit: Emit) {}

  /** Starts the backend; `threads`: wasm threads asked for by the page (?threads=N), null for the default. */
  async start(choice: BackendChoice, threads: number | null): Promise<void> {
    this.requested = choice;
    requestWasmThreads(threads);
    await this.setUp((o) => initBackend(choice, o));
  }

  /** Threads of the wasm backend (1: single-threaded build); null when not on wasm. */
  wasmThreads(): number | null {
    return this.backend === 'wasm' ? wasmThreadCount() : null;
  }

  /** Registers something that holds backend tensors, to be released before a fresh backend starts. */
  onRelease(release: () => void): void {
    this.holders.push(release);
  }

  /** Starts a backend (through `init`), notes why it is not the first choice, and watches a WebGPU device. */
  private async setUp(init: (o: InitBackendOptions) => Promise<string>): Promise<void> {
    const skipped: string[] = [];
    this.backend = await init({ onUnavailable: (name: BackendName, reason: string) => skipped.push(`${BACKEND_NAMES[name]} is not available (${reason})`) });
    this.note = skipped.length ? `${skipped.join('; ')}, so the app uses ${backendName(this.backend)}.` : null;
    this.adapterText = null;
    if (this.backend === 'webgpu') {
      const a = await webgpuAdapterInfo().catch(() => null);
      this.adapterText = a ? [a.vendor, a.architecture || a.device || a.description].filter(Boolean).join(' ') + (a.isFallbackAdapter ? ' (fallback adapter)' : '') : null;
    }
    this.lost = null;
    this.lostSignal = new Promise<string>((resolve) => watchGpuDevice(resolve)).then((reason) => (this.lost = reason));
  }

  /** The reason when `error` came from losing the WebGPU device (waits briefly for the browser to say so); else null. */
  async lossReason(error: unknown): Promise<string | null> {
    if (error instanceof GpuLostError) return this.lost ?? error.message;
    if (this.backend !== 'webgpu') return null;
    return this.lost ?? (await Promise.race([this.lostSignal, new Promise<null>((r) => setTimeout(() => r(null), 1000))]));
  }

  /** Waits for a GPU read-back, unless the device is lost meanwhile (then throws instead of hanging). */
  readback<T>(p: Promise<T>): Promise<T> {
    if (this.backend !== 'webgpu') return p;
    return Promise.race([p, this.lostSignal.then((reason) => Promise.reject(new GpuLostError(reason)))]);
  }

  /**
   * Everything on the lost device is gone: the holders drop their tensors and a fresh backend starts (run it under
   * the tfjs lock). Tells the page, which sees the model loading again.
   */
  async recover(reason: string): Promise<void> {
    const before = this.backend;
    for (const release of this.holders) {
      try {
        release();
      } catch {
        /* its buffers went with the device */
      }
    }
    await this.setUp((o) => restartBackend(this.requested, o));
    const now = backendName(this.backend);
    this.emit({
      type: 'notice',
      level: 'warning',
      message: `The GPU device was lost (${reason}). The app restarted ${before === this.backend ? now : `on ${now} instead of ${backendName(before)}`} and indexes the photo again.`,
    });
  }

  /** Test hook: destroys the WebGPU device now, or right after the next photo's forward pass. */
  debugLoseDevice(when: 'now' | 'next-photo'): boolean {
    if (this.backend !== 'webgpu') return false;
    if (when === 'now') return destroyGpuDevice();
    this.loseAfterNextForward = true;
    return true;
  }

  /** Called after each indexing forward pass: carries out a pending 'next-photo' test hook. */
  afterForward(): void {
    if (!this.loseAfterNextForward) return;
    this.loseAfterNextForward = false;
    destroyGpuDevice();
  }
}
