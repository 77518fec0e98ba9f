/**
 * What src/worker/imageSniff.ts reads from a file's bytes: the format, the stored size of JPEG/PNG/WebP/GIF/BMP
 * headers, the EXIF orientation and the upright size it gives, whether a JPEG or PNG stops before its end, and
 * what a file that is no image is instead. Real JPEG and PNG files are encoded here (jpeg-js, pngjs); WebP, GIF,
 * BMP and the other containers are headers written by hand from their specifications.
 */
import { describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { notAnImageReason, sniffImage, uprightSize } from '../../src/worker/imageSniff';
import { seededValues } from '../../scripts/lib/random';

const bytes = (...parts: (string | number[] | Uint8Array)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : Array.from(p))));
const u16le = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const u16be = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const u24le = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];
const u32le = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

/** RGBA noise (so the JPEG's entropy-coded data holds stuffed 0xFF 0x00 bytes). */
function noise(width: number, height: number, seed: number): Buffer {
  return Buffer.from(Uint8Array.from(seededValues(width * height * 4, seed, 0), (v, i) => (i % 4 === 3 ? 255 : Math.floor(v * 256))));
}
const realJpeg = (width: number, height: number) => new Uint8Array(jpeg.encode({ data: noise(width, height, width + height), width, height }, 90).data);
const realPng = (width: number, height: number) => {
  const png = new PNG({ width, height });
  png.data = noise(width, height, 3);
  return new Uint8Array(PNG.sync.write(png));
};

/**
 * The JPEG with an APP1 Exif segment after SOI whose IFD0 holds an unrelated tag (ImageWidth) and then the
 * Orientation tag, in big-endian ('MM') or little-endian ('II') TIFF order.
 */
function withExif(jpg: Uint8Array, orientation: number, order: 'MM' | 'II'): Uint8Array {
  const u16 = order === 'MM' ? u16be : u16le;
  const u32 = (v: number) => (order === 'MM' ? u32le(v).reverse() : u32le(v));
  const entry = (tag: number, type: number, value: number) => [...u16(tag), ...u16(type), ...u32(1), ...u16(value), 0, 0];
  const tiff = [...Array.from(order, (c) => c.charCodeAt(0)), ...u16(42), ...u32(8), ...u16(2), ...entry(0x0100, 3, 640), ...entry(0x0112, 3, orientation), ...u32(0)];
  const body = bytes('Exif\0\0', tiff);
  return bytes(jpg.subarray(0, 2), [0xff, 0xe1, ...u16be(body.length + 2)], body, jpg.subarray(2));
}

describe('JPEG', () => {
  const jpg = realJpeg(40, 30);

  it('a complete file: its size from the frame header, orientation 1 without EXIF, not truncated', () => {
    // The fixture is a real baseline JPEG whose scan holds stuffed bytes, so the scan walk is exercised.
    const scan = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xda);
    expect(jpg.subarray(scan).some((b, i, a) => b === 0xff && a[i + 1] === 0x00)).toBe(true);
    expect(sniffImage(jpg)).toEqual({ format: 'jpeg', width: 40, height: 30, orientation: 1, truncated: false });
    // Bytes after the end-of-image marker (some cameras append data) do not matter.
    expect(sniffImage(bytes(jpg, new Uint8Array(100)))?.truncated).toBe(false);
  });

  it('a file that stops early is truncated: before its end marker, in the scan, or in the headers', () => {
    for (const n of [jpg.length - 2, jpg.length - 1, Math.floor(jpg.length * 0.75), Math.floor(jpg.length / 2), scanStart(jpg) + 3]) {
      expect(sniffImage(jpg.subarray(0, n)), `first ${n} of ${jpg.length} bytes`).toMatchObject({ format: 'jpeg', width: 40, height: 30, truncated: true });
    }
    expect(sniffImage(jpg.subarray(0, 30))).toMatchObject({ format: 'jpeg', truncated: true });
    expect(sniffImage(jpg.subarray(0, 3))).toMatchObject({ format: 'jpeg', truncated: true });
  });

  it('restart markers and fill bytes in the scan do not end it; the end marker does', () => {
    // SOI, SOF0 (height 7, width 9), SOS, scan data with RST0..RST7, a stuffed 0xFF00 and fill bytes, EOI.
    const sof = [0xff, 0xc0, ...u16be(11), 8, ...u16be(7), ...u16be(9), 1, 1, 0x11, 0];
    const sos = [0xff, 0xda, ...u16be(8), 1, 1, 0, 0, 63, 0];
    const scan = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd7, 0x78, 0xff, 0xff, 0xd3, 0x9a];
    const file = bytes([0xff, 0xd8], sof, sos, scan, [0xff, 0xd9]);
    expect(sniffImage(file)).toEqual({ format: 'jpeg', width: 9, height: 7, orientation: 1, truncated: false });
    expect(sniffImage(file.subarray(0, file.length - 2))?.truncated).toBe(true);
    expect(sniffImage(file.subarray(0, file.length - 4))?.truncated).toBe(true);
  });

  it('EXIF orientations 1..8 in either byte order; 5..8 swap the upright width and height', () => {
    for (const order of ['MM', 'II'] as const) {
      for (let o = 1; o <= 8; o++) {
        const h = sniffImage(withExif(jpg, o, order))!;
        expect(h, `orientation ${o} (${order})`).toEqual({ format: 'jpeg', width: 40, height: 30, orientation: o, truncated: false });
        expect(uprightSize(h), `orientation ${o}`).toEqual(o >= 5 ? { width: 30, height: 40 } : { width: 40, height: 30 });
      }
    }
  });

  it('an orientation outside 1..8 or an unreadable EXIF block counts as 1', () => {
    for (const o of [0, 9, 0xffff]) expect(sniffImage(withExif(jpg, o, 'MM'))?.orientation).toBe(1);
    const broken = withExif(jpg, 6, 'II');
    broken[2 + 4 + 6 + 4] = 0xf0; // IFD0 offset (little-endian, after SOI, APP1 head, 'Exif\0\0', 'II*\0'): past the block
    expect(sniffImage(broken)).toMatchObject({ orientation: 1, width: 40, height: 30, truncated: false });
  });

  it('the upright size is unknown when the header gives no size', () => {
    expect(uprightSize({ format: 'jpeg', orientation: 6, truncated: true })).toBeNull();
  });
});

const scanStart = (jpg: Uint8Array) => jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xda);

describe('PNG', () => {
  const png = realPng(23, 17);

  it('a complete file: its size from IHDR, not truncated', () => {
    expect(sniffImage(png)).toEqual({ format: 'png', width: 23, height: 17, orientation: 1, truncated: false });
  });

  it('a file cut before its IEND chunk is truncated; the size is still read when IHDR is whole', () => {
    for (const n of [png.length - 5, png.length - 12, Math.floor(png.length / 2), 33]) {
      expect(sniffImage(png.subarray(0, n)), `first ${n} of ${png.length} bytes`).toEqual({ format: 'png', width: 23, height: 17, orientation: 1, truncated: true });
    }
    expect(sniffImage(png.subarray(0, 20))).toEqual({ format: 'png', orientation: 1, truncated: true });
    // Only IEND's checksum cut: the end marker is there, so is all the image data.
    expect(sniffImage(png.subarray(0, png.length - 1))?.truncated).toBe(false);
  });
});

describe('sizes from the headers of other formats', () => {
  /** A RIFF/WEBP file with one chunk (the payload as the WebP container specification lays it out). */
  const webp = (fourcc: string, payload: number[]) => bytes('RIFF', u32le(12 + payload.length), 'WEBP', fourcc, u32le(payload.length), payload);

  it('WebP: extended (VP8X canvas), lossy (VP8 frame, scale bits ignored) and lossless (VP8L)', () => {
    // VP8X: flags, 3 reserved bytes, canvas width - 1 and height - 1 in 24 bits each.
    expect(sniffImage(webp('VP8X', [0x10, 0, 0, 0, ...u24le(4999), ...u24le(2999)]))).toEqual({ format: 'webp', width: 5000, height: 3000, orientation: 1, truncated: false });
    // VP8: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height, each with 2 scale bits on top.
    const vp8 = [0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a, ...u16le(1234 | (1 << 14)), ...u16le(567 | (3 << 14))];
    expect(sniffImage(webp('VP8 ', vp8))).toMatchObject({ format: 'webp', width: 1234, height: 567 });
    // VP8L: signature 0x2f, then width - 1 (14 bits), height - 1 (14 bits), alpha (1 bit), version (3 bits).
    const bits = (w: number, h: number) => u32le((w - 1) | ((h - 1) << 14) | (1 << 28));
    expect(sniffImage(webp('VP8L', [0x2f, ...bits(16384, 1)]))).toMatchObject({ format: 'webp', width: 16384, height: 1 });
    expect(sniffImage(webp('VP8L', [0x2f, ...bits(301, 7)]))).toMatchObject({ format: 'webp', width: 301, height: 7 });
    // A chunk too short to hold the size: the format without a size.
    expect(sniffImage(webp('VP8X', [0, 0]))).toEqual({ format: 'webp', orientation: 1, truncated: false });
  });

  it('GIF (87a and 89a): the logical screen size', () => {
    expect(sniffImage(bytes('GIF89a', u16le(320), u16le(200), [0xf7, 0, 0]))).toMatchObject({ format: 'gif', width: 320, height: 200 });
    expect(sniffImage(bytes('GIF87a', u16le(1), u16le(65535)))).toMatchObject({ format: 'gif', width: 1, height: 65535 });
    expect(sniffImage(bytes('GIF89a', [1, 0]))).toEqual({ format: 'gif', orientation: 1, truncated: false });
  });

  it('BMP: the size from the info header, a top-down (negative) height made positive', () => {
    const bmp = (w: number, h: number) => bytes('BM', u32le(0), u32le(0), u32le(54), u32le(40), u32le(w), u32le(h), u16le(1), u16le(24));
    expect(sniffImage(bmp(64, 48))).toMatchObject({ format: 'bmp', width: 64, height: 48 });
    expect(sniffImage(bmp(64, -48))).toMatchObject({ format: 'bmp', width: 64, height: 48 });
  });

  it('formats known by signature only: AVIF, HEIC, TIFF, JPEG XL', () => {
    const ftyp = (brand: string, compatible = '') => bytes(u32le(0).reverse(), 'ftyp', brand, [0, 0, 0, 0], compatible);
    expect(sniffImage(ftyp('avif', 'mif1miaf'))?.format).toBe('avif');
    expect(sniffImage(ftyp('heic', 'mif1heic'))?.format).toBe('heic');
    expect(sniffImage(ftyp('mif1', 'heic'))?.format).toBe('heic');
    expect(sniffImage(bytes('II', [0x2a, 0], u32le(8)))?.format).toBe('tiff');
    expect(sniffImage(bytes('MM', [0, 0x2a], u32le(8).reverse()))?.format).toBe('tiff');
    expect(sniffImage(bytes([0xff, 0x0a, 0xfa]))?.format).toBe('jxl');
  });
});

describe('files that are not images', () => {
  it('zero bytes: no format, and the reason says the file is empty', () => {
    expect(sniffImage(new Uint8Array(0))).toBeNull();
    expect(notAnImageReason(new Uint8Array(0))).toBe('the file is empty (0 bytes)');
  });

  it('text renamed as an image: no format, "holds text", also when 1 KiB ends inside a UTF-8 character', () => {
    const note = new TextEncoder().encode('Shopping list:\n\t- bread\r\n- milk\n');
    expect(sniffImage(note)).toBeNull();
    expect(notAnImageReason(note)).toBe('not an image: the file holds text');
    // 'a' then 600 two-byte characters: byte 1024 is the first half of one.
    const accents = new TextEncoder().encode('a' + 'é'.repeat(600));
    expect(accents[1023]).toBe(0xc3);
    expect(sniffImage(accents)).toBeNull();
    expect(notAnImageReason(accents)).toBe('not an image: the file holds text');
    // Control bytes are not text.
    expect(notAnImageReason(bytes('abc', [0x01, 0x02], 'def'))).toMatch(/not in any image format this app knows/);
  });

  it('other kinds of file are named', () => {
    const cases: [Uint8Array, string][] = [
      [bytes('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n'), 'not an image: the file is a PDF document'],
      [bytes('PK', [3, 4, 20, 0]), 'not an image: the file is a ZIP archive (or an Office document)'],
      [bytes(u32le(0x18000000), 'ftypisom', [0, 0, 2, 0], 'isomiso2mp41'), 'not an image: the file is a video or other ISO media file'],
      [bytes('RIFF', u32le(36), 'WAVEfmt '), 'not an image: the file is a WAV audio file'],
      [bytes('ID3', [4, 0, 0]), 'not an image: the file is an MP3 audio file'],
      [bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f]), 'not an image: the file is a Matroska/WebM video'],
      [bytes('\x7fELF', [2, 1, 1]), 'not an image: the file is a program'],
      [bytes([0x1f, 0x8b, 8, 0]), 'not an image: the file is a gzip archive'],
      [bytes('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10"></svg>'), 'not a photo: SVG drawings are not imported'],
      [bytes([0x13, 0x37, 0x00, 0x80, 0xfe]), 'not an image: its content is not in any image format this app knows (JPEG, PNG, WebP, GIF, BMP, AVIF)'],
    ];
    for (const [file, reason] of cases) {
      expect(sniffImage(file), reason).toBeNull();
      expect(notAnImageReason(file)).toBe(reason);
    }
  });

  it('an HTML page saved with an image name is text, not an SVG', () => {
    const html = new TextEncoder().encode('<!doctype html><html><body><p>404 Not Found</p></body></html>\n');
    expect(sniffImage(html)).toBeNull();
    expect(notAnImageReason(html)).toBe('not an image: the file holds text');
  });
});
