/**
 * What a file's bytes say about it, before (and when) the browser's decoder fails: the image format from its
 * magic bytes, its pixel size and EXIF orientation from the header (so a huge photo can be decoded straight to a
 * smaller size), and whether a JPEG or PNG stops before its end (a copy or download that did not finish).
 * Pure byte parsing: runs in the worker, and in Node for the unit tests.
 */

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif' | 'heic' | 'tiff' | 'ico' | 'jxl';

export interface ImageHeader {
  format: ImageFormat;
  /** Pixel size as stored (before EXIF orientation), when the header gives it. */
  width?: number;
  height?: number;
  /** EXIF orientation 1..8 (JPEG only; 1 when absent). 5..8 swap width and height when displayed. */
  orientation: number;
  /** The data stops before the format's end marker (JPEG EOI, PNG IEND). */
  truncated: boolean;
}

export const FORMAT_NAMES: Record<ImageFormat, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  gif: 'GIF',
  webp: 'WebP',
  bmp: 'BMP',
  avif: 'AVIF',
  heic: 'HEIC/HEIF',
  tiff: 'TIFF',
  ico: 'ICO',
  jxl: 'JPEG XL',
};

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
const u16be = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u32be = (b: Uint8Array, at: number) => ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
const u16le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u24le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
const i32le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);

/** The image format of these bytes and what its header says, or null when they are not a known image format. */
export function sniffImage(b: Uint8Array): ImageHeader | null {
  const n = b.length;
  const base = { orientation: 1, truncated: false };
  if (n >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { ...base, ...jpegHeader(b) };
  if (n >= 8 && u32be(b, 0) === 0x89504e47 && u32be(b, 4) === 0x0d0a1a0a) return { ...base, ...pngHeader(b) };
  if (n >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) {
    return { ...base, format: 'gif', ...(n >= 10 ? { width: u16le(b, 6), height: u16le(b, 8) } : {}) };
  }
  if (n >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return { ...base, format: 'webp', ...webpSize(b) };
  if (n >= 26 && ascii(b, 0, 2) === 'BM') return { ...base, format: 'bmp', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
  if (n >= 12 && ascii(b, 4, 4) === 'ftyp') {
    const brands = ascii(b, 8, Math.min(n, 64) - 8);
    if (/avi[fs]/.test(brands)) return { ...base, format: 'avif' };
    if (/hei[cx]|hev[cx]|mif1|msf1/.test(brands)) return { ...base, format: 'heic' };
    return null;
  }
  if (n >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) return { ...base, format: 'tiff' };
  if (n >= 6 && b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0 && b[4] + b[5] > 0) return { ...base, format: 'ico' };
  if ((n >= 2 && b[0] === 0xff && b[1] === 0x0a) || (n >= 12 && ascii(b, 4, 4) === 'JXL ')) return { ...base, format: 'jxl' };
  return null;
}

/** Walks the JPEG's segments (and entropy-coded scans) to its EOI marker: size, EXIF orientation, truncation. */
function jpegHeader(b: Uint8Array): ImageHeader {
  const out: ImageHeader = { format: 'jpeg', orientation: 1, truncated: true };
  const n = b.length;
  let i = 2;
  while (i + 1 < n) {
    if (b[i] !== 0xff) return { ...out, truncated: false }; // not a marker: corrupt, let the decoder judge
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd9) return { ...out, truncated: false };
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    if (i + 3 >= n) break;
    const end = i + 2 + u16be(b, i + 2);
    if (end > n) break;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && out.width === undefined && i + 8 < n) {
      out.height = u16be(b, i + 5);
      out.width = u16be(b, i + 7);
    }
    if (marker === 0xe1 && ascii(b, i + 4, 6) === 'Exif\0\0') out.orientation = exifOrientation(b.subarray(i + 10, end));
    i = end;
    if (marker === 0xda) {
      // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00, a fill byte or a restart marker.
      while (i + 1 < n && !(b[i] === 0xff && b[i + 1] !== 0 && b[i + 1] !== 0xff && !(b[i + 1] >= 0xd0 && b[i + 1] <= 0xd7))) i++;
    }
  }
  return out;
}

/** Orientation tag (0x0112) of IFD0 of an EXIF TIFF block; 1 when absent or unreadable. */
function exifOrientation(t: Uint8Array): number {
  if (t.length < 8) return 1;
  const le = t[0] === 0x49 && t[1] === 0x49;
  const u16 = (at: number) => (le ? u16le(t, at) : u16be(t, at));
  const u32 = (at: number) => (le ? (u16le(t, at) | (u16le(t, at + 2) << 16)) >>> 0 : u32be(t, at));
  const ifd = u32(4);
  if (ifd + 2 > t.length) return 1;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + 12 * k;
    if (e + 12 > t.length) break;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

function pngHeader(b: Uint8Array): ImageHeader {
  const out: ImageHeader = { format: 'png', orientation: 1, truncated: true };
  if (b.length >= 24 && ascii(b, 12, 4) === 'IHDR') {
    out.width = u32be(b, 16);
    out.height = u32be(b, 20);
  }
  // Chunks: length, type, data, CRC; the image ends with IEND.
  let i = 8;
  while (i + 8 <= b.length) {
    const len = u32be(b, i);
    if (ascii(b, i + 4, 4) === 'IEND') return { ...out, truncated: false };
    i += 12 + len;
  }
  return out;
}

function webpSize(b: Uint8Array): { width?: number; height?: number } {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X' && b.length >= 30) return { width: 1 + u24le(b, 24), height: 1 + u24le(b, 27) };
  if (chunk === 'VP8 ' && b.length >= 30) return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  if (chunk === 'VP8L' && b.length >= 25) {
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
  }
  return {};
}

/** Upright (displayed) size: EXIF orientations 5..8 swap width and height. */
export function uprightSize(h: ImageHeader): { width: number; height: number } | null {
  if (!h.width || !h.height) return null;
  return h.orientation >= 5 ? { width: h.height, height: h.width } : { width: h.width, height: h.height };
}

/** Known non-image signatures, for a message that says what the file is instead. */
const OTHER_KINDS: [(b: Uint8Array) => boolean, string][] = [
  [(b) => ascii(b, 0, 5) === '%PDF-', 'a PDF document'],
  [(b) => b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5), 'a ZIP archive (or an Office document)'],
  [(b) => ascii(b, 4, 4) === 'ftyp', 'a video or other ISO media file'],
  [(b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WAVE', 'a WAV audio file'],
  [(b) => ascii(b, 0, 3) === 'ID3' || (b[0] === 0xff && (b[1] & 0xe0) === 0xe0), 'an MP3 audio file'],
  [(b) => u32be(b, 0) === 0x1a45dfa3, 'a Matroska/WebM video'],
  [(b) => ascii(b, 0, 4) === '\x7fELF' || ascii(b, 0, 2) === 'MZ', 'a program'],
  [(b) => b[0] === 0x1f && b[1] === 0x8b, 'a gzip archive'],
];

/** Plain text (UTF-8, no control bytes but tab/newline) in the first 1 KiB. */
function looksLikeText(b: Uint8Array): boolean {
  const head = b.subarray(0, 1024);
  if (!head.length) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.length < b.length ? head.subarray(0, lastCharBoundary(head)) : head);
  } catch {
    return false;
  }
  return head.every((c) => c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d);
}

/** Length of `head` without a trailing partial UTF-8 sequence. */
function lastCharBoundary(head: Uint8Array): number {
  let end = head.length;
  for (let k = 0; k < 3 && end > 0 && (head[end - 1] & 0xc0) === 0x80; k++) end--;
  if (end > 0 && head[end - 1] >= 0xc0) end--;
  return end;
}

/** Why bytes that are not a known image format cannot be imported: what they look like instead. */
export function notAnImageReason(b: Uint8Array): string {
  if (!b.length) return 'the file is empty (0 bytes)';
  if (/^\s*</.test(ascii(b, 0, 64)) && /<svg[\s>]/i.test(new TextDecoder().decode(b.subarray(0, 4096)))) {
    return 'not a photo: SVG drawings are not imported';
  }
  for (const [test, kind] of OTHER_KINDS) if (test(b)) return `not an image: the file is ${kind}`;
  if (looksLikeText(b)) return 'not an image: the file holds text';
  return 'not an image: its content is not in any image format this app knows (JPEG, PNG, WebP, GIF, BMP, AVIF)';
}
