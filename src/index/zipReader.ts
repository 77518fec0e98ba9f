/**
 * Reading a zip (an .npz) without loading it: the central directory at its end is read (Zip64 included), and each
 * member becomes a Blob of its uncompressed bytes — a slice of the file itself when stored (what this app writes:
 * no copy, no memory), or inflated into a new Blob a chunk at a time when deflated (numpy.savez_compressed).
 */
import { Inflate } from 'fflate';

export interface ZipMember {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;

const u64 = (v: DataView, at: number) => Number(v.getBigUint64(at, true));

async function bytesAt(file: Blob, start: number, end: number): Promise<DataView> {
  return new DataView(await file.slice(start, end).arrayBuffer());
}

export class ZipFile {
  private constructor(
    private readonly file: Blob,
    readonly members: ReadonlyMap<string, ZipMember>,
  ) {}

  /** Reads the central directory; throws "not a zip" for anything else. */
  static async open(file: Blob): Promise<ZipFile> {
    const tailStart = Math.max(0, file.size - (0xffff + 22 + 20));
    const tail = await bytesAt(file, tailStart, file.size);
    let eocd = -1;
    for (let i = tail.byteLength - 22; i >= 0; i--) {
      if (tail.getUint32(i, true) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error('not a zip/.npz file'); // no end-of-central-directory record
    let count = tail.getUint16(eocd + 10, true);
    let cdSize = tail.getUint32(eocd + 12, true);
    let cdOffset = tail.getUint32(eocd + 16, true);
    if (eocd >= 20 && tail.getUint32(eocd - 20, true) === ZIP64_LOCATOR) {
      const at = u64(tail, eocd - 20 + 8);
      const z = await bytesAt(file, at, at + 56);
      if (z.getUint32(0, true) !== ZIP64_EOCD) throw new Error('damaged zip: the Zip64 end record is missing');
      count = u64(z, 32);
      cdSize = u64(z, 40);
      cdOffset = u64(z, 48);
    }
    if (cdOffset + cdSize > file.size) throw new Error('damaged or incomplete zip: the central directory lies past the end of the file');
    const cd = await bytesAt(file, cdOffset, cdOffset + cdSize);
    const members = new Map<string, ZipMember>();
    const utf8 = new TextDecoder();
    // Entries are read to the end of the directory: writers cap the 16-bit count at 65,535 without a Zip64 record.
    let p = 0;
    for (let n = 0; p < cd.byteLength; n++) {
      if (p + 46 > cd.byteLength || cd.getUint32(p, true) !== CENTRAL) throw new Error('damaged zip: bad central directory entry');
      const method = cd.getUint16(p + 10, true);
      let compressedSize = cd.getUint32(p + 20, true);
      let size = cd.getUint32(p + 24, true);
      const nameLen = cd.getUint16(p + 28, true);
      const extraLen = cd.getUint16(p + 30, true);
      const commentLen = cd.getUint16(p + 32, true);
      let localOffset = cd.getUint32(p + 42, true);
      const name = utf8.decode(new Uint8Array(cd.buffer, p + 46, nameLen));
      // Zip64 extra field: the 64-bit values of the fields set to 0xffffffff, in this order.
      for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
        const id = cd.getUint16(e, true);
        const len = cd.getUint16(e + 2, true);
        if (id === 1) {
          let f = e + 4;
          if (size === MAX32) {
            size = u64(cd, f);
            f += 8;
          }
          if (compressedSize === MAX32) {
            compressedSize = u64(cd, f);
            f += 8;
          }
          if (localOffset === MAX32) localOffset = u64(cd, f);
        }
        e += 4 + len;
      }
      members.set(name, { name, method, compressedSize, size, localOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
    if (members.size < Math.min(count, 0xffff)) throw new Error('damaged zip: fewer entries than its directory announces');
    return new ZipFile(file, members);
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  /** A member's uncompressed bytes as a Blob (a slice of the file when stored). */
  async blob(name: string, type = ''): Promise<Blob> {
    const m = this.members.get(name);
    if (!m) throw new Error(`${name} is missing`);
    const local = await bytesAt(this.file, m.localOffset, m.localOffset + 30);
    if (local.getUint32(0, true) !== LOCAL) throw new Error(`damaged zip: no local header for ${name}`);
    const start = m.localOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    const raw = this.file.slice(start, start + m.compressedSize, type);
    if (m.method === 0) return raw;
    if (m.method !== 8) throw new Error(`${name}: unsupported zip compression method ${m.method}`);
    return inflateToBlob(raw, type);
  }
}

/** Raw DEFLATE data inflated into a Blob, a chunk at a time (Blob parts of about 8 MiB). */
async function inflateToBlob(raw: Blob, type: string): Promise<Blob> {
  const parts: Blob[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pending.length) parts.push(new Blob(pending as Uint8Array<ArrayBuffer>[]));
    pending = [];
    pendingBytes = 0;
  };
  const inflate = new Inflate((chunk) => {
    pending.push(chunk.slice());
    pendingBytes += chunk.length;
    if (pendingBytes >= 8 << 20) flush();
  });
  const reader = raw.stream().getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    inflate.push(value, false);
  }
  inflate.push(new Uint8Array(0), true);
  flush();
  return new Blob(parts, { type });
}
