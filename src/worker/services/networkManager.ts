/**
 * Network manager: the network of the collection's model and input size — loaded once (in the background, with
 * progress, a second try after a damaged cached copy), reloaded when the model changes, and run for forward passes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { modelKey } from '../../index/settings';
import type { ModelAdapter } from '../../model/adapters';
import { loadNetwork, type CwNetwork, type ForwardResult } from '../../model/network';
import type { EngineInfo } from '../../worker-api/api';
import type { Lock } from '../lock';
import { MODEL_CACHE, cachedModelReader, customModelReader } from '../modelCache';
import { errorMessage } from '../errors';
import type { Emit } from '../events';
import type { Settings } from './session';
import { readModelFolder } from './customModelSource';
import type { GpuRuntime } from './gpuRuntime';
import type { ModelRegistry } from './modelRegistry';

/** RGB pixels of a decoded photo, row-major [height, width, 3]. */
export interface Rgb {
  data: Int32Array;
  width: number;
  height: number;
  /** Size of the photo they show, when decoded smaller (at the network's input size): the space of its grid. */
  imageWidth?: number;
  imageHeight?: number;
}

export interface NetworkDeps {
  settings: Settings;
  registry: ModelRegistry;
  lock: Lock;
  emit: Emit;
  /** Settles which backend runs the network (a measurement when 'auto' found a GPU that looks real). */
  runtime: Pick<GpuRuntime, 'settle' | 'readback'>;
  /** The engine's description, sent with the 'model' events. */
  info: () => EngineInfo;
  /** Resolves when no dropped photo is being read in (parsing the weights blocks the worker for seconds). */
  intakeIdle: () => Promise<void>;
}

export class NetworkManager {
  private loading: { key: string; promise: Promise<CwNetwork> } | null = null;
  /** The loaded network (null while loading, after a failure, or after the model changed). */
  ready: CwNetwork | null = null;
  /** Forward passes run since the worker started (indexing and queries). */
  forwardPasses = 0;

  constructor(private readonly deps: NetworkDeps) {}

  /** Starts loading the current model (errors are reported through the 'model' event). */
  loadInBackground(): void {
    this.get().catch(() => undefined);
  }

  /** The network for the current settings: the loaded one, the load in progress, or a new load. */
  get(): Promise<CwNetwork> {
    const { settings, registry } = this.deps;
    const key = modelKey(settings.current);
    if (this.loading?.key === key) return this.loading.promise;
    const promise = this.load(registry.adapter(settings.current.modelId), settings.current.longSide);
    this.loading = { key, promise };
    promise.then(
      (net) => {
        if (this.loading?.promise === promise) this.ready = net;
        else net.dispose();
      },
      () => {
        if (this.loading?.promise === promise) this.loading = null; // the next call tries again
      },
    );
    return promise;
  }

  /** Loaded and current. */
  get isReady(): boolean {
    return !!this.ready && !!this.loading;
  }

  /** Forgets a failed load, so the next `get` tries again. */
  forgetFailure(): void {
    if (!this.ready) this.loading = null;
  }

  dispose(): void {
    this.ready?.dispose();
    this.ready = null;
    this.loading = null;
  }

  /** The backend was lost: its tensors are gone; the next `get` loads the network again. */
  release(): void {
    try {
      this.ready?.dispose();
    } finally {
      this.ready = null;
      this.loading = null;
    }
  }

  /** Tells the page the model is loading again (after the backend restarted). */
  announceLoading(): void {
    this.deps.emit({ type: 'model', status: { state: 'loading', bytes: 0 }, info: this.deps.info() });
  }

  /** One forward pass on RGB pixels (optionally at another long side); the caller disposes the result. */
  forward(net: CwNetwork, rgb: Rgb, longSide?: number): ForwardResult {
    const pixels = tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'int32');
    try {
      this.forwardPasses++;
      const image = rgb.imageWidth && rgb.imageHeight ? { width: rgb.imageWidth, height: rgb.imageHeight } : undefined;
      return net.forward(pixels, longSide, image);
    } finally {
      pixels.dispose();
    }
  }

  /**
   * Milliseconds of one forward pass of the network on the active backend, read-back included: a synthetic 4:3 photo
   * at the input size, after one pass that compiles shaders or packs weights. The network is loaded for it and let go.
   */
  private async timeForward(adapter: ModelAdapter, read: (path: string) => Promise<ArrayBuffer>, longSide: number): Promise<number> {
    const net = await loadNetwork(adapter, read, { longSide });
    const pixels = tf.randomUniform([Math.round((longSide * 3) / 4), longSide, 3], 0, 255, 'int32') as tf.Tensor3D;
    try {
      let ms = Infinity;
      for (let pass = 0; pass < 2; pass++) {
        const t0 = performance.now();
        const r = net.forward(pixels);
        try {
          await this.deps.runtime.readback(Promise.all([r.X.data(), r.probabilities.data()]));
        } finally {
          tf.dispose([r.X, r.probabilities]);
        }
        if (pass > 0) ms = performance.now() - t0;
      }
      return ms;
    } finally {
      pixels.dispose();
      net.dispose();
    }
  }

  private async load(adapter: ModelAdapter, longSide: number): Promise<CwNetwork> {
    const { emit, registry, lock } = this.deps;
    emit({ type: 'model', status: { state: 'loading', bytes: 0 } });
    const custom = registry.customRecord(adapter.id);
    /** Progress of the current attempt only: reads of a failed attempt still finishing must not undo its error. */
    let live = 0;
    const attempt = async () => {
      const mine = ++live;
      const progress = (p: { bytes: number; fromNetwork: boolean }) => {
        if (mine === live) emit({ type: 'model', status: { state: 'loading', bytes: p.bytes, fromNetwork: p.fromNetwork } });
      };
      const read = custom ? customModelReader(custom.id, custom.labels === 'numbered' ? custom.classes : null, progress) : cachedModelReader(adapter.folder, progress);
      // Every file first (asynchronous: photos dropped meanwhile are read in alongside), then photos being read
      // in finish, and only then the weights are parsed, which blocks this worker for seconds (ResNet-50).
      const files = await readModelFolder(read);
      await this.deps.intakeIdle();
      const readFile = async (path: string) => files.get(path) ?? read(path);
      await this.deps.runtime.settle(modelKey({ modelId: adapter.id, longSide }), adapter.name, () => this.timeForward(adapter, readFile, longSide));
      return loadNetwork(adapter, readFile, { longSide });
    };
    try {
      let net: CwNetwork;
      try {
        net = await lock.run(attempt);
      } catch (first) {
        // A damaged cached copy of a shipped model: drop the cache and fetch once more. (A custom model's files
        // are its only copy: never dropped here.)
        if (custom || !('caches' in self) || !(await caches.delete(MODEL_CACHE))) throw first;
        net = await lock.run(attempt);
      }
      live++;
      emit({ type: 'model', status: { state: 'ready' }, info: this.deps.info() });
      return net;
    } catch (e) {
      live++;
      const message = `The ${adapter.name} model could not be loaded: ${errorMessage(e)}`;
      emit({ type: 'model', status: { state: 'error', message } });
      throw new Error(message, { cause: e });
    }
  }
}
