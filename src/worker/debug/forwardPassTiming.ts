/**
 * Forward-pass timing (a debug hook for scripts/bench-indexing.ts): bare forward passes on collection photos in this
 * worker, to compare with the indexing rate in the same run. Each photo is decoded first as the indexer decodes it (not
 * timed); then the network alone plus reading back X and the probabilities is timed. Also, untimed: the photo's OfA
 * descriptor as the app computed it before photos were decoded at the input size (decoded at full size, resized by
 * the network), to compare with the stored one.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CollectionStore } from '../../index/db';
import { describeImage } from '../../search/cwForWorker';
import type { ForwardTiming } from '../../worker-api/debugApi';
import { bitmapRgb, decodeUpright } from '../images';
import type { Lock } from '../lock';
import type { GpuRuntime } from '../services/gpuRuntime';
import type { NetworkManager } from '../services/networkManager';
import type { Photos } from '../services/photos';
import { decodeForNetwork } from '../services/photoPipeline';
import type { Settings } from '../services/session';

export async function forwardPassTiming(
  deps: { store: CollectionStore; photos: Photos; settings: Settings; network: NetworkManager; runtime: GpuRuntime; lock: Lock },
  ids: readonly string[],
  fullSize: boolean,
): Promise<ForwardTiming> {
  const { store, photos, settings, network, runtime, lock } = deps;
  const net = await network.get();
  const out: ForwardTiming = { ms: [], fullSizeDescriptors: [] };
  for (const id of ids) {
    const decoded = await decodeForNetwork(store, photos, id, net.longSide, net.adapter.stride);
    if (!decoded || 'problem' in decoded) throw new Error(`photo ${id} cannot be decoded`);
    out.ms.push(
      await lock.run(async () => {
        const t0 = performance.now();
        const r = network.forward(net, decoded.rgb);
        try {
          await runtime.readback(Promise.all([r.X.data(), r.probabilities.data()]));
        } finally {
          tf.dispose([r.X, r.probabilities]);
        }
        return performance.now() - t0;
      }),
    );
    if (!fullSize) continue;
    const photo = await photos.read(id);
    if (!photo) throw new Error(`photo ${id} is no longer in the collection`);
    const bitmap = await decodeUpright(photo.blob, photo.size);
    const rgb = bitmapRgb(bitmap);
    bitmap.close();
    out.fullSizeDescriptors.push(
      await lock.run(async () => {
        const r = network.forward(net, rgb);
        try {
          const d = describeImage(r.X, net.head.w, (await r.probabilities.data()) as Float32Array, settings.current.nc);
          try {
            return (await d.data()) as Float32Array;
          } finally {
            d.dispose();
          }
        } finally {
          tf.dispose([r.X, r.probabilities]);
        }
      }),
    );
  }
  return out;
}
