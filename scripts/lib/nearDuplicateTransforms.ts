/**
 * The ways a photo comes back into a collection as a near-duplicate (resized, re-encoded at a low JPEG quality,
 * cropped, brightness-shifted, a shifted crop for a burst neighbour), applied to a decoded JPEG: the generated
 * near-duplicate set (scripts/collection/make-near-duplicates.ts), the collection screenshots and the e2e tests'
 * copies all use these. Deterministic: same input, same bytes.
 */
import jpeg from 'jpeg-js';

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One copy of a photo: crop (fractions cut from each side), scale, brightness shift (levels), JPEG quality. */
export interface Transform {
  name: string;
  crop: { left: number; top: number; right: number; bottom: number };
  scale: number;
  brightness: number;
  quality: number;
}

const none = { left: 0, top: 0, right: 0, bottom: 0 };
export const TRANSFORMS: Transform[] = [
  { name: 'resize60-q70', crop: none, scale: 0.6, brightness: 0, quality: 70 },
  { name: 'q35', crop: none, scale: 1, brightness: 0, quality: 35 },
  // 10 % of the width and of the height cut, unevenly.
  { name: 'crop10-q85', crop: { left: 0.07, top: 0.02, right: 0.03, bottom: 0.08 }, scale: 1, brightness: 0, quality: 85 },
  { name: 'bright+30-q90', crop: none, scale: 1, brightness: 30, quality: 90 },
  // A burst neighbour: the frame moved by 5 % and 3 %, darker, smaller, re-encoded.
  { name: 'burst-shift5-dark20-resize80-q60', crop: { left: 0, top: 0.03, right: 0.05, bottom: 0 }, scale: 0.8, brightness: -20, quality: 60 },
];

function crop(img: Rgba, c: Transform['crop']): Rgba {
  const x0 = Math.round(img.width * c.left), y0 = Math.round(img.height * c.top);
  const width = img.width - x0 - Math.round(img.width * c.right), height = img.height - y0 - Math.round(img.height * c.bottom);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 4, ((y0 + y) * img.width + x0 + width) * 4), y * width * 4);
  return { width, height, data };
}

/** Area-averaging downscale (each output pixel the mean of the source pixels it covers). */
function downscale(img: Rgba, scale: number): Rgba {
  if (scale === 1) return img;
  const width = Math.round(img.width * scale), height = Math.round(img.height * scale);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy0 = Math.floor(y / scale), sy1 = Math.max(sy0 + 1, Math.floor((y + 1) / scale));
    for (let x = 0; x < width; x++) {
      const sx0 = Math.floor(x / scale), sx1 = Math.max(sx0 + 1, Math.floor((x + 1) / scale));
      const sum = [0, 0, 0];
      for (let sy = sy0; sy < sy1; sy++) for (let sx = sx0; sx < sx1; sx++) for (let ch = 0; ch < 3; ch++) sum[ch] += img.data[(sy * img.width + sx) * 4 + ch];
      const n = (sy1 - sy0) * (sx1 - sx0);
      for (let ch = 0; ch < 3; ch++) data[(y * width + x) * 4 + ch] = Math.round(sum[ch] / n);
      data[(y * width + x) * 4 + 3] = 255;
    }
  }
  return { width, height, data };
}

function brighten(img: Rgba, levels: number): Rgba {
  if (!levels) return img;
  const data = Uint8Array.from(img.data, (v, i) => (i % 4 === 3 ? v : Math.max(0, Math.min(255, v + levels))));
  return { ...img, data };
}

export function applyTransform(img: Rgba, t: Transform): Buffer {
  const out = brighten(downscale(crop(img, t.crop), t.scale), t.brightness);
  return jpeg.encode({ width: out.width, height: out.height, data: Buffer.from(out.data) }, t.quality).data;
}
