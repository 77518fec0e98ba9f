/**
 * Worker side: decoding photos (EXIF orientation applied), thumbnails, the stored copy, and RGB pixels for the
 * network. Uses createImageBitmap and OffscreenCanvas only (no DOM), so it runs inside the module worker.
 */
import { COPY_SIDE, THUMB_SIDE } from '../index/settings';
import { FORMAT_NAMES, notAnImageReason, uprightSize, type ImageHeader } from './imageSniff';

/** Formats stored as they are when small enough; anything else decodable is stored as a JPEG. */
const KEEP_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
const KEEP_FORMATS = new Set(['jpeg', 'png', 'webp']);

/** Photos smaller than this on either side are not imported: nothing in them can be searched for. */
const MIN_PHOTO_SIDE = 32;

/** A file that cannot be imported, with a message for the user (shown next to the file's name). */
export class ImportProblem extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'ImportProblem';
  }
}

class DecodeError extends ImportProblem {
  constructor(type: string, cause: unknown, header?: ImageHeader | null) {
    super(decodeFailure(type, header), cause);
    this.name = 'DecodeError';
  }
}

/** Why the browser could not decode a file, from what its bytes say. */
function decodeFailure(type: string, header: ImageHeader | null | undefined): string {
  if (!header) return `not a photo this browser can decode${type ? ` (${type})` : ''}`;
  const format = FORMAT_NAMES[header.format];
  if (header.truncated) return `the file is incomplete: its ${format} data stops before the end of the image (a copy or download that did not finish)`;
  if (header.format === 'heic') return 'this browser cannot decode HEIC/HEIF photos: export them as JPEG first';
  return `this browser could not decode this ${format} file: it is damaged or uses a variant the browser does not support`;
}

/**
 * Decodes an image upright (EXIF orientation applied): its width and height are as displayed. With `size`, the
 * decoder scales straight to that upright size (a 48-megapixel photo never becomes a full-size bitmap here), with
 * the browser's `quality` of resizing.
 */
export async function decodeUpright(blob: Blob, size?: { width: number; height: number }, header?: ImageHeader | null, quality: ResizeQuality = 'high'): Promise<ImageBitmap> {
  try {
    const bitmap = await createImageBitmap(blob, {
      imageOrientation: 'from-image',
      ...(size ? { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: quality } : {}),
    });
    if (!(bitmap.width > 0 && bitmap.height > 0)) throw new Error('empty image');
    return bitmap;
  } catch (e) {
    if (header === null && blob.size) {
      // Not a format this app knows, and the browser could not decode it either: say what the file looks like.
      const reason = notAnImageReason(new Uint8Array(await blob.slice(0, 4096).arrayBuffer()));
      throw new ImportProblem(reason, e);
    }
    throw new DecodeError(blob.type, e, header);
  }
}

/** Size with the long side at most `maxSide`, aspect ratio kept (never upscales). */
function fitLongSide(width: number, height: number, maxSide: number): { width: number; height: number } {
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
  /** Upright size of the photo's pixel space (its copy, or the original fitted to COPY_SIDE): where boxes live. */
  width: number;
  height: number;
  originalWidth: number;
  originalHeight: number;
  stored: 'original' | 'downscaled';
  /** The copy to keep: the file itself or a JPEG; null when asked for none. */
  blob: Blob | null;
  thumb: Blob;
  thumbWidth: number;
  thumbHeight: number;
}

/**
 * What is kept of an imported file: the file itself when it is a JPEG/PNG/WebP with long side <= COPY_SIDE, else a
 * JPEG (quality 0.9) downscaled to that long side (none when `copy` is false: the photo is linked on disk or kept
 * as a thumbnail only); plus a JPEG thumbnail (long side THUMB_SIDE). Either way the photo's pixel space is the
 * size that copy has. `header` (from sniffImage, null for an unknown format) lets a big photo be decoded straight
 * to that size.
 */
export async function preparePhoto(file: Blob, header?: ImageHeader | null, copy = true): Promise<PreparedPhoto> {
  const upright = header ? uprightSize(header) : null;
  const big = upright && Math.max(upright.width, upright.height) > COPY_SIDE ? upright : null;
  const bitmap = await decodeUpright(file, big ? fitLongSide(big.width, big.height, COPY_SIDE) : undefined, header);
  const bitmaps = [bitmap];
  try {
    const originalWidth = big ? big.width : bitmap.width;
    const originalHeight = big ? big.height : bitmap.height;
    if (Math.min(originalWidth, originalHeight) < MIN_PHOTO_SIDE) {
      throw new ImportProblem(`too small to search: ${originalWidth} × ${originalHeight} px (a photo needs at least ${MIN_PHOTO_SIDE} px on each side)`);
    }
    const keepable = header ? KEEP_FORMATS.has(header.format) : KEEP_TYPES.has(file.type);
    const keep = !big && keepable && Math.max(bitmap.width, bitmap.height) <= COPY_SIDE;
    const storedBitmap = keep || big ? bitmap : await resized(bitmap, COPY_SIDE);
    bitmaps.push(storedBitmap);
    const blob = !copy ? null : keep ? file : await toJpeg(storedBitmap, 0.9);
    const thumbBitmap = await resized(storedBitmap, THUMB_SIDE);
    bitmaps.push(thumbBitmap);
    const thumb = await toJpeg(thumbBitmap, 0.85);
    return {
      width: storedBitmap.width,
      height: storedBitmap.height,
      originalWidth,
      originalHeight,
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

/**
 * RGB pixels of a bitmap, row-major [height, width, 3], as int32 (what tf.tensor3d takes for 0..255 values).
 * Transparent pixels are composited on white, as in the thumbnail and the stored JPEG copies (not black).
 */
export function bitmapRgb(bitmap: ImageBitmap): { data: Int32Array; width: number; height: number } {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas in this worker');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
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
