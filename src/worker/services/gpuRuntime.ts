/**
 * Gpu runtime: the tfjs backend this worker runs on — choosing it (./backendChoice.ts: software GPUs after wasm, a
 * real GPU measured against wasm) and saying why, reading results back without hanging when a WebGPU device is lost,
 * starting the backend again after a loss, and moving to the next backend when one fails while indexing.
 */
import { destroyGpuDevice, gpuSignals, initBackend, restartBackend, watchGpuDevice, webgpuAdapterInfo, type BackendName } from '../../model/backend';
import { requestWasmThreads, wasmThreadCount } from '../../model/wasmThreads';
import type { BackendChoice } from '../../worker-api/api';
import { BackendMemo, backendName, measureOrRecall, measuredWhy, planAuto, type BackendPlan } from './backendChoice';
import { errorMessage, noop } from '../errors';
import type { Emit } from '../events';

/** The GPU device went away (driver reset, GPU removed, or destroyed by the test hook). */
class GpuLostError extends Error {
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
  /** Something to warn about: the backend asked for could not start, or one failed and the app moved on; else null. */
  note: string | null = null;
  /** Why this backend (shown in the header). */
  reason = '';
  /** Milliseconds of one forward pass per backend, when the choice was measured (or remembered); else null. */
  timings: Record<string, number> | null = null;
  private plan: BackendPlan = planAuto([]);
  /** The backends in the order to try; the ones after the active one are its fallbacks. */
  private order: BackendName[] = [];
  /** Backends that failed in this worker (never tried again), and those whose GPU device was lost once. */
  private readonly failed = new Set<string>();
  private readonly lostOnce = new Set<string>();
  /** The model key the measured choice was made for. */
  private settledFor: string | null = null;
  private readonly memo = new BackendMemo();
  /** Set (with the browser's reason) when the WebGPU device in use is lost; `lostSignal` resolves then. */
  private lost: string | null = null;
  private lostSignal: Promise<string> = new Promise(noop);
  private loseAfterNextForward = false;
  private failNextForwards = 0;
  /** What holds tensors of the backend: told to drop them before another backend starts (or the device was lost). */
  private readonly holders: (() => void)[] = [];

  constructor(private readonly emit: Emit) {}

  /** Starts the backend; `threads`: wasm threads asked for by the page (?threads=N), null for the default. */
  async start(choice: BackendChoice, threads: number | null): Promise<void> {
    this.requested = choice;
    requestWasmThreads(threads);
    this.plan = planAuto(await gpuSignals().catch(() => []));
    this.order = choice === 'auto' ? [...this.plan.order] : [choice, ...this.plan.order.filter((b) => b !== choice)];
    const skipped: string[] = [];
    for (const name of this.order) {
      try {
        await this.use(name);
        break;
      } catch (e) {
        skipped.push(`${backendName(name)} is not available (${errorMessage(e)})`);
      }
    }
    if (!this.backend) throw new Error(`no tfjs backend could be started: ${skipped.join('; ')}`);
    this.note = skipped.length ? `${skipped.join('; ')}, so the app uses ${backendName(this.backend)}.` : null;
    this.reason = this.note ?? (choice === 'auto' ? this.plan.why : `forced by the address (?backend=${choice})`);
    this.timings = null;
  }

  /** Threads of the wasm backend (1: single-threaded build); null when not on wasm. */
  wasmThreads(): number | null {
    return this.backend === 'wasm' ? wasmThreadCount() : null;
  }

  /** Registers something that holds backend tensors, to be released before another backend starts. */
  onRelease(release: () => void): void {
    this.holders.push(release);
  }

  /** Makes `name` the active backend (throws when it cannot start) and watches a WebGPU device. */
  private async use(name: BackendName, restart = false): Promise<void> {
    const options = {
      strict: true,
      // Thrown out of initBackend: the reason, instead of strict's "could not be initialised".
      onUnavailable: (_: BackendName, reason: string) => {
        throw new Error(reason);
      },
    };
    this.backend = restart ? await restartBackend(name, options) : await initBackend(name, options);
    this.adapterText = null;
    if (this.backend === 'webgpu') {
      const a = await webgpuAdapterInfo().catch(() => null);
      this.adapterText = a ? [a.vendor, a.architecture || a.device || a.description].filter(Boolean).join(' ') + (a.isFallbackAdapter ? ' (fallback adapter)' : '') : null;
    }
    this.lost = null;
    this.lostSignal = new Promise<string>((resolve) => watchGpuDevice(resolve)).then((reason) => (this.lost = reason));
  }

  private releaseHolders(): void {
    for (const release of this.holders) {
      try {
        release();
      } catch {
        /* its buffers went with the device or the failed backend */
      }
    }
  }

  /**
   * Before the network of `modelKey` loads (under the tfjs lock, nothing else on the backend yet): when 'auto' found
   * a GPU that looks real, the fastest of it and wasm for this model here, remembered or measured (`measure` times
   * a forward pass on the active backend), becomes the backend.
   */
  async settle(modelKey: string, modelName: string, measure: (backend: BackendName) => Promise<number>): Promise<void> {
    if (this.requested !== 'auto' || !this.plan.toMeasure.length || this.failed.size || this.settledFor === modelKey) return;
    this.settledFor = modelKey;
    const key = BackendMemo.key(modelKey, navigator.userAgent, this.plan.gpus);
    const result = await measureOrRecall(key, this.plan.toMeasure, this.memo, async (b) => {
      await this.use(b);
      return measure(b);
    });
    if (!result) return; // nothing ran the network: loading it says why
    await this.use(result.backend);
    this.order = [result.backend, ...this.plan.order.filter((b) => b !== result.backend)];
    this.reason = measuredWhy(result, modelName);
    this.timings = { ...result.ms } as Record<string, number>;
  }

  /**
   * Test hook: choose again on the next network load, software GPUs included when asked; `fresh` forgets the
   * remembered measurement first. Run it under the tfjs lock: everything on the backend is released.
   */
  async rechoose(includeSoftware: boolean, fresh: boolean, modelKey: string): Promise<void> {
    this.plan = planAuto(await gpuSignals().catch(() => []), includeSoftware);
    if (fresh) await this.memo.forget(BackendMemo.key(modelKey, navigator.userAgent, this.plan.gpus)).catch(noop);
    this.settledFor = null;
    this.releaseHolders();
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
   * The backend failed while indexing (`cause`; run this under the tfjs lock). A first loss of the GPU device starts
   * the same backend again; a second one, a failed restart or any other failure moves to the next backend of the order.
   * Everything on the old backend is released first. Tells the page; returns false when no backend is left.
   */
  async handleFailure(cause: unknown): Promise<boolean> {
    const before = this.backend;
    const lost = await this.lossReason(cause);
    this.releaseHolders();
    if (lost !== null && !this.lostOnce.has(before)) {
      this.lostOnce.add(before);
      try {
        await this.use(before as BackendName, true);
        this.emit({ type: 'notice', level: 'warning', message: `The GPU device was lost (${lost}). The app restarted ${backendName(before)} and indexes the photo again.` });
        return true;
      } catch (e) {
        return this.fallBack(before, `the GPU device was lost (${lost}) and ${backendName(before)} did not start again: ${errorMessage(e)}`);
      }
    }
    return this.fallBack(before, lost !== null ? `the GPU device was lost again (${lost})` : errorMessage(cause));
  }

  private async fallBack(before: string, why: string): Promise<boolean> {
    this.failed.add(before);
    for (const name of this.order.filter((b) => !this.failed.has(b))) {
      try {
        await this.use(name);
      } catch (e) {
        this.failed.add(name);
        console.warn(`[backend] ${name} could not start:`, e);
        continue;
      }
      this.note = `${backendName(before)} failed while indexing (${why}), so the app uses ${backendName(name)}.`;
      this.reason = this.note;
      this.timings = null;
      this.emit({ type: 'notice', level: 'warning', message: `${backendName(before)} failed while indexing (${why}). The app moved to ${backendName(name)} and indexes the photo again.` });
      return true;
    }
    return false;
  }

  /** Test hook: destroys the WebGPU device now, or right after the next photo's forward pass. */
  debugLoseDevice(when: 'now' | 'next-photo'): boolean {
    if (this.backend !== 'webgpu') return false;
    if (when === 'now') return destroyGpuDevice();
    this.loseAfterNextForward = true;
    return true;
  }

  /** Test hook: the next `count` indexing forward passes throw, as a kernel error or running out of memory would. */
  debugFailForward(count: number): void {
    this.failNextForwards = count;
  }

  /** Called after each indexing forward pass: carries out a pending test hook. */
  afterForward(): void {
    if (this.failNextForwards > 0) {
      this.failNextForwards--;
      throw new Error(`the forward pass failed on ${this.backend} (forced by debugFailForward)`);
    }
    if (!this.loseAfterNextForward) return;
    this.loseAfterNextForward = false;
    destroyGpuDevice();
  }
}
