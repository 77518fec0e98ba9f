/**
 * Backend choice: the order in which 'auto' tries the tfjs backends on this machine, and why. A GPU that
 * the browser emulates in software (a WebGPU fallback adapter, a SwiftShader or llvmpipe WebGL renderer) is slower
 * than WebAssembly for these networks (ResNet-50 at 512: about 12 s a photo on SwiftShader WebGL, 2 s on wasm), so it
 * only comes after wasm. A GPU that looks real is measured against wasm: one short forward pass each through the real
 * network, remembered per model, browser and GPU (IndexedDB), measured again when any of them changes.
 */
import { openDB, type DBSchema } from 'idb';
import type { BackendName, GpuSignal } from '../../model/backend';

const BACKEND_NAMES: Record<string, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WebAssembly (wasm)', cpu: 'plain JavaScript (cpu, slow)' };
export const backendName = (b: string): string => BACKEND_NAMES[b] ?? b;

export interface BackendPlan {
  /** Every backend, in the order to try: the first that starts is used, the next ones are the fallbacks. */
  order: BackendName[];
  /** Backends only a measurement can rank (GPUs that look real, and wasm); empty when the signals decide. */
  toMeasure: BackendName[];
  /** Why the first of `order` (for the header), e.g. "this browser's WebGPU is a software emulator (SwiftShader)". */
  why: string;
  /** This browser's GPUs as they describe themselves: part of the key of a remembered measurement. */
  gpus: string;
}

/** How the two GPU backends stand, in words: "this browser has no WebGPU, and its WebGL is a software emulator (SwiftShader)". */
function gpuWords(webgpu: GpuSignal, webgl: GpuSignal): string {
  const part = (s: GpuSignal, first: boolean) => {
    const name = s.name === 'webgpu' ? 'WebGPU' : 'WebGL';
    if (!s.available) return first ? `this browser has no ${name}` : `no ${name}`;
    const what = s.software ? `is a software emulator (${s.reason})` : `runs on ${s.description || 'a GPU'}`;
    return `${first ? "this browser's" : 'its'} ${name} ${what}`;
  };
  return `${part(webgpu, true)}, and ${part(webgl, false)}`;
}

/**
 * The order for 'auto' from what the browser says about its GPUs. `measureSoftware` (a test hook) ranks software GPUs
 * by measurement too, as if they might be real.
 */
export function planAuto(signals: readonly GpuSignal[], measureSoftware = false): BackendPlan {
  const gpu = (name: 'webgpu' | 'webgl') => signals.find((s) => s.name === name) ?? { name, available: false, software: false, description: '', reason: '' };
  const gpus = [gpu('webgpu'), gpu('webgl')];
  const real = gpus.filter((s) => s.available && (!s.software || measureSoftware)).map((s) => s.name);
  // Software GPUs after wasm; SwiftShader's WebGL (5 s a photo, MobileNet at 512) before its WebGPU (slower still, and
  // 26-32 s of shader compilation on the first photo: docs/APP.md).
  const software = gpus.filter((s) => s.available && s.software && !real.includes(s.name)).map((s) => s.name).reverse();
  const order: BackendName[] = [...real, 'wasm', ...software, 'cpu'];
  const words = gpuWords(gpus[0], gpus[1]);
  const why = real.length ? `${words}: measuring which is faster here, the GPU or wasm` : words;
  return { order, toMeasure: real.length ? [...real, 'wasm'] : [], why, gpus: gpus.map((s) => `${s.name}=${s.available ? s.description || '?' : 'none'}`).join('; ') };
}

/** A measurement, as remembered. */
export interface Measured {
  key: string;
  backend: BackendName;
  /** Milliseconds of one forward pass (the fastest of the timed ones) per candidate; Infinity when it failed. */
  ms: Partial<Record<BackendName, number>>;
  at: number;
}

interface MemoSchema extends DBSchema {
  measured: { key: string; value: Measured };
}

const MEMO_DB = 'cw-backend-choice';

/** Where measurements are remembered: a database of their own, so clearing the collection does not forget them. */
export class BackendMemo {
  constructor(private readonly dbName = MEMO_DB) {}

  /** Identifies what a measurement holds for: model and input size, browser, GPUs. */
  static key(modelKey: string, userAgent: string, gpus: string): string {
    return `${modelKey} | ${userAgent} | ${gpus}`;
  }

  private open() {
    return openDB<MemoSchema>(this.dbName, 1, { upgrade: (db) => db.createObjectStore('measured', { keyPath: 'key' }) });
  }

  /** The remembered measurement, or null (also when IndexedDB cannot be read: then it is measured again). */
  async get(key: string): Promise<Measured | null> {
    try {
      const db = await this.open();
      try {
        return (await db.get('measured', key)) ?? null;
      } finally {
        db.close();
      }
    } catch {
      return null;
    }
  }

  async put(m: Measured): Promise<void> {
    try {
      const db = await this.open();
      try {
        await db.put('measured', m);
      } finally {
        db.close();
      }
    } catch (e) {
      console.warn('[backend] could not remember the measurement:', e); // measured again next time
    }
  }

  async forget(key: string): Promise<void> {
    const db = await this.open();
    try {
      await db.delete('measured', key);
    } finally {
      db.close();
    }
  }
}

/**
 * The fastest of `candidates` for this model here: remembered, else measured (`measure` makes the backend active,
 * times a forward pass and returns ms; a throw counts as unusable) and remembered. Null when none could run.
 */
export async function measureOrRecall(
  key: string,
  candidates: readonly BackendName[],
  memo: BackendMemo,
  measure: (backend: BackendName) => Promise<number>,
): Promise<(Measured & { remembered: boolean }) | null> {
  const known = await memo.get(key);
  if (known && candidates.includes(known.backend) && candidates.every((c) => c in known.ms)) return { ...known, remembered: true };
  const ms: Partial<Record<BackendName, number>> = {};
  for (const c of candidates) {
    try {
      ms[c] = await measure(c);
    } catch (e) {
      console.warn(`[backend] ${c} could not run the network:`, e);
      ms[c] = Infinity;
    }
  }
  const best = candidates.filter((c) => Number.isFinite(ms[c])).sort((a, b) => ms[a]! - ms[b]!)[0];
  if (!best) return null;
  const measured: Measured = { key, backend: best, ms, at: Date.now() };
  await memo.put(measured);
  return { ...measured, remembered: false };
}

/** "measured the fastest for ResNet-50 here (wasm 2100 ms, WebGL 130 ms a photo)". */
export function measuredWhy(m: Measured & { remembered: boolean }, modelName: string): string {
  const list = Object.entries(m.ms)
    .map(([b, v]) => `${b} ${Number.isFinite(v) ? `${Math.round(v!)} ms` : 'failed'}`)
    .join(', ');
  return `${m.remembered ? 'remembered as' : 'measured'} the fastest for ${modelName} in this browser (${list} a forward pass)`;
}
