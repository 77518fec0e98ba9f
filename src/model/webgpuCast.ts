/**
 * A fix for tfjs-backend-webgpu 4.22, shared by the app (src/model/backend.ts) and the Node GPU benchmark
 * (scripts/bench-gpu.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { webgpu_util, type WebGPUBackend, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/**
 * Works around a tfjs-backend-webgpu 4.22 bug. Its Cast kernel treats int32/bool -> float32 as lossless and
 * returns the SAME GPU buffer relabelled float32, but that buffer still holds i32 values. Programs that read
 * their input buffer raw instead of through the converting getters (Transpose, hence every reduction over
 * leading axes, e.g. `tf.mean(tf.cast(tf.greater(X, 0), 'float32'), [0, 1])`) then fail WGSL validation
 * ("type mismatch ... expected 'f32', got 'i32'") and return whatever the recycled output buffer held.
 * Here such casts produce a real float32 tensor: on the CPU when the values are still there, else with a
 * one-line shader that converts through the getter.
 */
class ToFloat32Program implements WebGPUProgram {
  variableNames = ['A'];
  outputShape: number[];
  shaderKey = 'cw_toFloat32';
  size = true;
  workgroupSize: [number, number, number] = [64, 1, 1];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = webgpu_util.flatDispatchLayout(shape);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, shape, this.workgroupSize);
  }
  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          setOutputAtIndex(index, getAByOutputIndex(index));
        }
      }`;
  }
}

export function patchWebgpuCastToFloat(): void {
  const original = tf.getKernel('Cast', 'webgpu');
  if (!original) return; // webgpu not registered in this context
  tf.unregisterKernel('Cast', 'webgpu');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
      if (dtype !== 'float32' || (x.dtype !== 'int32' && x.dtype !== 'bool')) return original.kernelFunc(args);
      const backend = args.backend as WebGPUBackend;
      const values = backend.tensorMap.get(x.dataId).values;
      if (values != null) return backend.makeTensorInfo(x.shape, 'float32', Float32Array.from(values as ArrayLike<number>));
      return backend.runWebGPUProgram(new ToFloat32Program(x.shape), [x], 'float32');
    },
  });
}
