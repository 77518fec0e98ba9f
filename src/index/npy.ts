/**
 * NumPy `.npy` headers (format 1.0 written; 1.0-3.0 read): magic, a header dict padded so the data starts on a
 * 64-byte boundary, then little-endian C-order data. Written and read separately from the data, so that arrays of
 * any size stream (src/index/exportFormat.ts).
 */

export type NpyDescr = '<f4' | '<f2' | '|u1';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** The header of an array of `shape` (version 1.0; the data follows it). */
export function npyHeader(descr: NpyDescr, shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  if (header.length > 0xffff) throw new Error('npy: header too long');
  const out = new Uint8Array(10 + header.length);
  out.set([...MAGIC, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/** A whole small array as `.npy` bytes. */
export function encodeNpy(data: Float32Array | Uint8Array, shape: readonly number[]): Uint8Array {
  if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new Error(`npy: shape [${shape}] does not match ${data.length} values`);
  const header = npyHeader(data instanceof Float32Array ? '<f4' : '|u1', shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

export interface NpyInfo {
  descr: string;
  shape: number[];
  /** Bytes before the data. */
  dataOffset: number;
  /** Bytes per value. */
  itemSize: number;
}

const ITEM_SIZE: Record<string, number> = { '<f4': 4, '<f2': 2, '|u1': 1, '<u1': 1 };

/** Parses a `.npy` header from the first bytes of the file (at least the whole header: 4096 bytes are plenty). */
export function parseNpyHeader(bytes: Uint8Array, what = 'npy'): NpyInfo {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) throw new Error(`${what}: not a .npy file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw new Error(`${what}: the .npy header is cut short`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? '';
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${what}: Fortran order is not supported`);
  const itemSize = ITEM_SIZE[descr];
  if (!itemSize) throw new Error(`${what}: unsupported dtype ${descr}`);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${what}: bad shape (${shape})`);
  return { descr, shape, dataOffset: start + headerLen, itemSize };
}
