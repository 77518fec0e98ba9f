/**
 * src/worker/services/backendChoice.ts and the software-GPU check of src/model/backend.ts: the order 'auto' tries
 * backends in from what the browser says about its GPUs (software ones after wasm), and a measurement remembered per
 * model, browser and GPUs (fake-indexeddb), measured again when any of them changes.
 */
import { describe, expect, it } from 'vitest';
import 'fake-indexeddb/auto';
import type { BackendName, GpuSignal } from '../../src/model/backend';
import { softwareGpuName } from '../../src/model/backend';
import { BackendMemo, measureOrRecall, measuredWhy, planAuto } from '../../src/worker/services/backendChoice';

const swiftWebgpu: GpuSignal = { name: 'webgpu', available: true, software: true, description: 'google swiftshader (fallback adapter)', reason: 'SwiftShader' };
const swiftWebgl: GpuSignal = { name: 'webgl', available: true, software: true, description: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)', reason: 'SwiftShader' };
const noWebgpu: GpuSignal = { name: 'webgpu', available: false, software: false, description: '', reason: 'no WebGPU adapter' };
const realWebgpu: GpuSignal = { name: 'webgpu', available: true, software: false, description: 'nvidia ampere', reason: '' };
const realWebgl: GpuSignal = { name: 'webgl', available: true, software: false, description: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11)', reason: '' };

describe('softwareGpuName', () => {
  it.each([
    ['ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)', 'SwiftShader'],
    ['llvmpipe (LLVM 15.0.6, 256 bits)', 'llvmpipe'],
    ['Mesa lavapipe', 'lavapipe'],
    ['Microsoft Basic Render Driver', 'Microsoft Basic Render Driver'],
    ['Google SwiftShader', 'SwiftShader'],
  ])('%s is a software GPU (%s)', (text, name) => expect(softwareGpuName(text)).toBe(name));

  it.each(['ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0)', 'Apple M2', 'Mali-G78', 'AMD Radeon RX 6800'])('%s is not', (text) =>
    expect(softwareGpuName(text)).toBeNull(),
  );
});

describe('planAuto', () => {
  it('headless Chromium with --enable-unsafe-webgpu (SwiftShader for both): wasm first, nothing to measure', () => {
    const plan = planAuto([swiftWebgpu, swiftWebgl]);
    expect(plan.order).toEqual(['wasm', 'webgl', 'webgpu', 'cpu']);
    expect(plan.toMeasure).toEqual([]);
    expect(plan.why).toBe("this browser's WebGPU is a software emulator (SwiftShader), and its WebGL is a software emulator (SwiftShader)");
  });

  it('without WebGPU and a software WebGL: wasm, then WebGL', () => {
    const plan = planAuto([noWebgpu, swiftWebgl]);
    expect(plan.order).toEqual(['wasm', 'webgl', 'cpu']);
    expect(plan.why).toBe('this browser has no WebGPU, and its WebGL is a software emulator (SwiftShader)');
  });

  it('no GPU at all: wasm then cpu', () => {
    const plan = planAuto([]);
    expect(plan.order).toEqual(['wasm', 'cpu']);
    expect(plan.why).toBe('this browser has no WebGPU, and no WebGL');
  });

  it('real GPUs come first and are measured against wasm', () => {
    const plan = planAuto([realWebgpu, realWebgl]);
    expect(plan.order).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(plan.toMeasure).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(plan.why).toMatch(/WebGPU runs on nvidia ampere, and its WebGL runs on ANGLE \(NVIDIA.*: measuring which is faster/);
  });

  it('a real WebGL beside a software WebGPU: only WebGL is measured; software WebGPU after wasm', () => {
    const plan = planAuto([swiftWebgpu, realWebgl]);
    expect(plan.order).toEqual(['webgl', 'wasm', 'webgpu', 'cpu']);
    expect(plan.toMeasure).toEqual(['webgl', 'wasm']);
  });

  it('the test hook measures software GPUs too', () => {
    expect(planAuto([swiftWebgpu, swiftWebgl], true).toMeasure).toEqual(['webgpu', 'webgl', 'wasm']);
  });

  it('the GPUs as described are part of the key of a measurement', () => {
    expect(planAuto([realWebgpu, realWebgl]).gpus).not.toBe(planAuto([{ ...realWebgpu, description: 'amd rdna3' }, realWebgl]).gpus);
  });
});

describe('measureOrRecall', () => {
  const candidates: BackendName[] = ['webgl', 'wasm'];

  it('measures each candidate once, remembers the fastest, and measures again when the model, browser or GPU changes', async () => {
    const memo = new BackendMemo(`memo-${Math.random()}`);
    const measured: string[] = [];
    const times: Record<string, number> = { webgl: 40, wasm: 900 };
    const measure = async (b: BackendName) => {
      measured.push(b);
      return times[b];
    };
    const key = BackendMemo.key('resnet50@512', 'Chrome/156', 'webgpu=none; webgl=ANGLE (NVIDIA)');
    const first = await measureOrRecall(key, candidates, memo, measure);
    expect(first).toMatchObject({ backend: 'webgl', ms: { webgl: 40, wasm: 900 }, remembered: false });
    expect(measured).toEqual(['webgl', 'wasm']);

    const again = await measureOrRecall(key, candidates, new BackendMemo((memo as unknown as { dbName: string }).dbName), measure);
    expect(again).toMatchObject({ backend: 'webgl', remembered: true });
    expect(measured, 'remembered: nothing measured').toHaveLength(2);
    expect(measuredWhy(again!, 'ResNet-50')).toBe('remembered as the fastest for ResNet-50 in this browser (webgl 40 ms, wasm 900 ms a forward pass)');

    for (const other of [
      BackendMemo.key('mobilenet_v1_0.75@512', 'Chrome/156', 'webgpu=none; webgl=ANGLE (NVIDIA)'),
      BackendMemo.key('resnet50@512', 'Chrome/157', 'webgpu=none; webgl=ANGLE (NVIDIA)'),
      BackendMemo.key('resnet50@512', 'Chrome/156', 'webgpu=none; webgl=ANGLE (AMD)'),
    ]) {
      measured.length = 0;
      expect((await measureOrRecall(other, candidates, memo, measure))?.remembered).toBe(false);
      expect(measured).toEqual(['webgl', 'wasm']);
    }
  });

  it('a candidate that throws is unusable; none usable gives null', async () => {
    const memo = new BackendMemo(`memo-${Math.random()}`);
    const result = await measureOrRecall('k', candidates, memo, async (b) => {
      if (b === 'webgl') throw new Error('CONTEXT_LOST_WEBGL');
      return 700;
    });
    expect(result).toMatchObject({ backend: 'wasm', ms: { webgl: Infinity, wasm: 700 } });
    expect(measuredWhy(result!, 'MobileNet')).toBe('measured the fastest for MobileNet in this browser (webgl failed, wasm 700 ms a forward pass)');
    expect(
      await measureOrRecall('k2', candidates, memo, async () => {
        throw new Error('no');
      }),
    ).toBeNull();
  });

  it('a remembered choice that is no longer a candidate is measured again', async () => {
    const memo = new BackendMemo(`memo-${Math.random()}`);
    await memo.put({ key: 'k', backend: 'webgpu', ms: { webgpu: 10, wasm: 900 }, at: 0 });
    const result = await measureOrRecall('k', candidates, memo, async (b) => (b === 'wasm' ? 800 : 50));
    expect(result).toMatchObject({ backend: 'webgl', remembered: false });
  });
});
