/**
 * Image files made in the test (nothing committed): a minimal baseline JPEG encoder for grayscale, YCbCr and CMYK
 * JPEGs of any size, PNGs (with alpha) through pngjs, and broken files (truncated, empty, text named .jpg).
 *
 * The JPEG encoder is "DC only": every 8 x 8 block is one flat colour (the DCT's DC coefficient, quantiser 1; all
 * AC coefficients zero, coded as an end-of-block). That is a valid baseline JPEG (SOF0, standard DC Huffman table,
 * a one-code AC table holding EOB) any decoder reads, and it is tiny and fast to write even at 8000 x 6000.
 * CMYK: four components with an Adobe APP14 marker (transform 0) and INVERTED values, the way Photoshop writes
 * CMYK JPEGs and browsers (libjpeg-turbo + Blink) read them: stored 255 = no ink.
 */
import { PNG } from 'pngjs';

/** Colour of the block at (bx, by) of bw x bh blocks, as component values 0..255 (one per component). */
export type BlockColour = (bx: number, by: number, bw: number, bh: number) => number[];

export interface JpegOptions {
  width: number;
  height: number;
  /** 1 (grayscale), 3 (YCbCr, values given as RGB and converted here) or 4 (CMYK, values given as ink 0..255). */
  components: 1 | 3 | 4;
  colour: BlockColour;
  /** EXIF orientation (APP1) to add, 1..8. */
  orientation?: number;
}

// The standard luminance DC table (ITU T.81, Annex K.3).
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/** Huffman codes (code, length) by symbol, from BITS/HUFFVAL (ITU T.81, Annex C). */
function huffmanCodes(bits: number[], values: number[]): Map<number, [number, number]> {
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]; i++) codes.set(values[k++], [code++, len]);
    code <<= 1;
  }
  return codes;
}

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0); // byte stuffing
    this.acc = 0;
    this.n = 0;
  }
  finish(): Buffer {
    while (this.n) this.write(1, 1); // pad with 1 bits
    return Buffer.from(this.bytes);
  }
}

const segment = (marker: number, body: number[] | Buffer): Buffer =>
  Buffer.concat([Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff]), Buffer.from(body)]);

/** A baseline JPEG of flat 8 x 8 blocks (see the file comment). */
export function encodeBlockJpeg(o: JpegOptions): Buffer {
  const { width, height, components: nc } = o;
  const bw = Math.ceil(width / 8), bh = Math.ceil(height / 8);
  const dc = huffmanCodes(DC_BITS, DC_VALUES);
  const out = new BitWriter();
  const pred = new Array(nc).fill(0);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      let v = o.colour(bx, by, bw, bh);
      if (nc === 3) {
        const [r, g, b] = v;
        v = [0.299 * r + 0.587 * g + 0.114 * b, 128 - 0.168736 * r - 0.331264 * g + 0.5 * b, 128 + 0.5 * r - 0.418688 * g - 0.081312 * b];
      } else if (nc === 4) {
        v = v.map((ink) => 255 - ink); // Adobe CMYK is stored inverted
      }
      for (let c = 0; c < nc; c++) {
        const q = Math.max(-1024, Math.min(1016, Math.round(8 * (Math.max(0, Math.min(255, v[c])) - 128))));
        const diff = q - pred[c];
        pred[c] = q;
        const size = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
        const [code, len] = dc.get(size)!;
        out.write(code, len);
        if (size) out.write(diff > 0 ? diff : diff + (1 << size) - 1, size);
        out.write(0, 1); // AC: EOB, the one code of the AC table
      }
    }
  }
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  if (nc === 4) parts.push(segment(0xee, [...Buffer.from('Adobe'), 0, 100, 0, 0, 0, 0, 0]));
  else parts.push(segment(0xe0, [...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]));
  if (o.orientation) parts.push(exifSegment(o.orientation));
  parts.push(segment(0xdb, [0, ...new Array(64).fill(1)]));
  parts.push(segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, nc, ...Array.from({ length: nc }, (_, c) => [c + 1, 0x11, 0]).flat()]));
  parts.push(segment(0xc4, [0x00, ...DC_BITS, ...DC_VALUES]));
  parts.push(segment(0xc4, [0x10, 1, ...new Array(15).fill(0), 0x00]));
  parts.push(segment(0xda, [nc, ...Array.from({ length: nc }, (_, c) => [c + 1, 0x00]).flat(), 0, 63, 0]));
  parts.push(out.finish(), Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}

/** An EXIF APP1 segment holding only Orientation. */
function exifSegment(orientation: number): Buffer {
  const tiff = [0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, orientation >> 8, orientation & 0xff, 0, 0, 0, 0, 0, 0];
  return segment(0xe1, [...Buffer.from('Exif\0\0', 'binary'), ...tiff]);
}

/** A smooth colour field (what the tests use as "a photo"): red to blue across, green down, with a bright disc. */
export const gradient: BlockColour = (bx, by, bw, bh) => {
  const x = bx / Math.max(1, bw - 1), y = by / Math.max(1, bh - 1);
  const disc = (x - 0.6) ** 2 + (y - 0.4) ** 2 < 0.04 ? 80 : 0;
  return [255 * (1 - x) * 0.8 + disc, 200 * y + disc, 255 * x * 0.8 + disc];
};

/**
 * An RGBA PNG. `pixel` gives [r, g, b, a] per pixel.
 */
export function encodePng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): Buffer {
  const png = new PNG({ width, height, colorType: 6 });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a] = pixel(x, y);
      const i = (y * width + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = a;
    }
  }
  return PNG.sync.write(png, { colorType: 6 });
}

/** The first half of a file's bytes (a download or copy that stopped half-way). */
export const truncated = (bytes: Buffer): Buffer => Buffer.from(bytes.subarray(0, Math.floor(bytes.length / 2)));
