/**
 * Photo pipeline: a queued photo's pixels for the network, decoded (EXIF orientation applied) straight at the
 * network's input size, a few photos ahead of the network. createImageBitmap decodes and resizes on the browser's
 * own threads, so the next photos are ready when the forward pass of the current one ends; only copying the small
 * decoded bitmap into an array runs on this worker's thread.
 */
import type { CollectionStore } from '../../index/db';
import { inputSize } from '../../model/preprocess';
import { bitmapRgb, decodeUpright } from '../images';
import type { Rgb } from './networkManager';
import type { Photos } from './photos';

/** A queued photo ready for the network, a photo that cannot be decoded (with the error), or null: removed meanwhile. */
export type Decoded = { id: string; rgb: Rgb } | { id: string; problem: unknown } | null;

/**
 * How the browser resizes photos for the network: 'low' is bilinear, like the network's own half-pixel resize of a
 * full-size decode, which the app used before. Measured on 10 dev photos (1024 px, to 512): every pixel within one
 * level (of 255) of that resize, mean |diff| 0.22; 'medium' and 'high' differ by up to 57 levels at scales other than
 * 2x. The descriptors this gives are compared with the former ones in BENCHMARKS.md ("Indexing pipeline").
 */
const NETWORK_RESIZE: ResizeQuality = 'low';

/**
 * Decodes a stored photo at the input size of a network with this long side and stride (see `inputSize`): the
 * network then skips its own resize. The pixels keep the stored copy's size as `imageWidth`/`imageHeight`, the space
 * of the feature grid and of query boxes.
 */
export async function decodeForNetwork(store: CollectionStore, photos: Photos, id: string, longSide: number, stride: number): Promise<Decoded> {
  const image = await store.getImage(id);
  if (!image) return null;
  try {
    // The stored copy, or the original read from disk (a PhotoUnavailable when it cannot be read).
    const photo = await photos.read(id);
    if (!photo) return null;
    const size = inputSize(image.width, image.height, longSide, stride);
    const bitmap = await decodeUpright(photo.blob, size, undefined, NETWORK_RESIZE);
    try {
      return { id, rgb: { ...bitmapRgb(bitmap), imageWidth: image.width, imageHeight: image.height } };
    } finally {
      bitmap.close();
    }
  } catch (problem) {
    return { id, problem };
  }
}

/** Decodes the photos next in line while the network runs: `keep` starts them, `take` hands one over. */
export class DecodeAhead {
  private readonly pending = new Map<string, Promise<Decoded>>();

  constructor(private readonly decode: (id: string) => Promise<Decoded>) {}

  /** Starts decoding these photos (the current one and the next few); forgets decodes of photos no longer in line. */
  keep(ids: readonly string[]): void {
    for (const id of this.pending.keys()) if (!ids.includes(id)) this.pending.delete(id);
    for (const id of ids) {
      if (this.pending.has(id)) continue;
      const p = this.decode(id);
      p.catch(() => undefined); // a decode forgotten before it ends must not be an unhandled rejection
      this.pending.set(id, p);
    }
  }

  /** The decoded photo (started now when it was not in line). */
  take(id: string): Promise<Decoded> {
    const p = this.pending.get(id) ?? this.decode(id);
    this.pending.delete(id);
    return p;
  }

  clear(): void {
    this.pending.clear();
  }
}
