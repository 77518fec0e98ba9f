/**
 * Worker side: decoding photos (EXIF orientation applied), thumbnails, the stored copy, and RGB pixels for the
 * network. Uses createImageBitmap and OffscreenCanvas only (no DOM), so it runs inside the module worker.
 */
import { MAX_STORED_SIDE, THUMB_SIDE } from '../index/settings';

/** Types stored as they are when small enough; anything else decodable is stored as a JPEG. */
const KEEP_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);

export class DecodeError extends Error {
  constructor(type: string, cause: unknown) {
    super(`not a photo this browser can decode${type ? ` (${type})` : ''}`);
    this.name = 'DecodeError';
    this.cause = cause;
  }
}

/** Decodes an image upright (EXIF orientation applied): its width and height are as displayed. */
export async function decodeUpright(blob: Blob): Promise<ImageBitmap> {
  try {
    const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
    if (!(bitmap.width > 0 && bitmap.height > 0)) throw new Error('empty image');
    return bitmap;
  } catch (e) {
    throw new DecodeError(blob.type, e);
  }
}

/** Size with the long side at most `maxSide`, aspect ratio kept (never upscales). */
export function fitLongSide(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

async function resized(bitmap: ImageBitmap, maxSide: number): Promise<ImageBitmap> {
  const size = fitLongSide(bitmap.width, bitmap.height, maxSide);
  if (size.width === bitmap.width && size.height === bitmap.height) return bitmap;
  return createImageBitmap(bitmap, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
}

async function toJpeg(bitmap: ImageBitmap, quality: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas in this worker');
  ctx.fillStyle = '#fff'; // transparent PNGs: white, not black, behind them
  ctx.fillRect(0, 0, bitmap.width, bitmap.height);
  ctx.drawImage(bitmap, 0, 0);
  return canvas.convertToBlob({ type: 'image/jpeg', quality });
}

export interface PreparedPhoto {
  width: number;
  height: number;
  originalWidth: number;
  originalHeight: number;
  stored: 'original' | 'downscaled';
  blob: Blob;
  thumb: Blob;
  thumbWidth: number;
  thumbHeight: number;
}

/**
 * What is kept of an imported file: the file itself when it is a JPEG/PNG/WebP with long side <= MAX_STORED_SIDE,
 * else a JPEG (quality 0.9) downscaled to that long side; plus a JPEG thumbnail (long side THUMB_SIDE).
 */
export async function preparePhoto(file: Blob): Promise<PreparedPhoto> {
  const bitmap = await decodeUpright(file);
  const bitmaps = [bitmap];
  try {
    const keep = KEEP_TYPES.has(file.type) && Math.max(bitmap.width, bitmap.height) <= MAX_STORED_SIDE;
    const storedBitmap = keep ? bitmap : await resized(bitmap, MAX_STORED_SIDE);
    bitmaps.push(storedBitmap);
    const blob = keep ? file : await toJpeg(storedBitmap, 0.9);
    const thumbBitmap = await resized(storedBitmap, THUMB_SIDE);
    bitmaps.push(thumbBitmap);
    const thumb = await toJpeg(thumbBitmap, 0.85);
    return {
      width: storedBitmap.width,
      height: storedBitmap.height,
      originalWidth: bitmap.width,
      originalHeight: bitmap.height,
      stored: keep ? 'original' : 'downscaled',
      blob,
      thumb,
      thumbWidth: thumbBitmap.width,
      thumbHeight: thumbBitmap.height,
    };
  } finally {
    for (const b of new Set(bitmaps)) b.close();
  }
}

/** RGB pixels of a bitmap, row-major [height, width, 3], as int32 (what tf.tensor3d takes for 0..255 values). */
export function bitmapRgb(bitmap: ImageBitmap): { data: Int32Array; width: number; height: number } {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas in this worker');
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const data = new Int32Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    data[j] = rgba[i];
    data[j + 1] = rgba[i + 1];
    data[j + 2] = rgba[i + 2];
  }
  return { data, width, height };
}
