// The records of a stored ZIP written as a stream (PKWARE APPNOTE 6.3.x): a local header before each
// entry's bytes, a data descriptor after them (the CRC-32 is known only once the bytes have passed), the
// central directory, and the end records, ZIP64's (4.3.14, 4.3.15) when an offset, a size or the count
// needs them. Every length is known from the listing alone, so zip.ts predicts the archive's length before
// the first byte.
//
// Choices: every entry is stored (method 0); every name is UTF-8 and flagged so (general-purpose bit 11);
// an entry with bytes has bit 3 set (zeros in its local header, the CRC and sizes in the descriptor after
// it, 8-byte sizes there when the size needs ZIP64); an entry without bytes (a folder, an empty file) has
// no descriptor; the central directory's ZIP64 extra field holds exactly the values its fixed fields mark
// 0xFFFFFFFF; times are MS-DOS times in UTC, clamped to 1980-2107.

const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
/** 4.5: the version that reads ZIP64 (4.4.3.2). */
const VERSION = 45;
/** Made by: Unix (high byte 3), so that the mode in the external attributes is read. */
const MADE_BY = (3 << 8) | VERSION;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const LOCAL = 30;
const CENTRAL = 46;
const DESCRIPTOR = 16;
const DESCRIPTOR_64 = 24;
const END = 22;
const END_64 = 56;
const LOCATOR_64 = 20;
const MODE_FILE = 0o100644;
const MODE_DIR = 0o040755;
/** MS-DOS directory attribute, for readers that ignore the Unix mode. */
const DOS_DIR = 0x10;

/** An entry as the records see it. */
export interface ZipRecord {
  /** UTF-8, "/"-terminated for a folder. */
  name: Uint8Array;
  dir: boolean;
  size: number;
  /** MS-DOS time (low 16 bits) and date (high 16 bits). */
  dosTime: number;
  /** Where its local header starts. */
  offset: number;
}

/** Where each entry and the central directory fall, and the archive's length. */
export interface ZipLayout {
  records: ZipRecord[];
  centralOffset: number;
  centralSize: number;
  length: number;
}

/** 0xFFFFFFFF marks a ZIP64 value, so it needs ZIP64 itself. */
const needs64 = (n: number) => n >= U32_MAX;
/** Bytes follow the local header (and a descriptor follows them). */
const hasBytes = (r: ZipRecord) => !r.dir && r.size > 0;
const descriptorLength = (r: ZipRecord) => (hasBytes(r) ? (needs64(r.size) ? DESCRIPTOR_64 : DESCRIPTOR) : 0);
/** The central directory's ZIP64 extra field of an entry (0: none). */
const extra64Length = (r: ZipRecord) => {
  const n = (needs64(r.size) ? 16 : 0) + (needs64(r.offset) ? 8 : 0);
  return n ? n + 4 : 0;
};
/** Whether the end records need ZIP64's (4.4.1.4: a count, size or offset too large for them). */
const end64 = (l: ZipLayout) =>
  l.records.length >= U16_MAX || needs64(l.centralSize) || needs64(l.centralOffset);

/** MS-DOS date and time of `ms` (UTC), clamped to the years the format holds. */
export function dosDateTime(ms: number): number {
  const d = new Date(Math.min(Math.max(ms, Date.UTC(1980, 0, 1)), Date.UTC(2107, 11, 31, 23, 59, 58)));
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  return ((date << 16) | time) >>> 0;
}

/** Where everything falls, for entries in archive order (their offsets are filled in here). */
export function layout(entries: Omit<ZipRecord, "offset">[]): ZipLayout {
  const records: ZipRecord[] = [];
  let at = 0;
  for (const e of entries) {
    const r = { ...e, offset: at };
    records.push(r);
    at += LOCAL + r.name.byteLength + r.size + descriptorLength(r);
  }
  let centralSize = 0;
  for (const r of records) centralSize += CENTRAL + r.name.byteLength + extra64Length(r);
  const l = { records, centralOffset: at, centralSize, length: 0 };
  l.length = at + centralSize + END + (end64(l) ? END_64 + LOCATOR_64 : 0);
  return l;
}

/** Little-endian writes into one record. */
class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private at = 0;
  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
  }
  u16(n: number): this {
    this.view.setUint16(this.at, n, true);
    this.at += 2;
    return this;
  }
  u32(n: number): this {
    this.view.setUint32(this.at, n, true);
    this.at += 4;
    return this;
  }
  u64(n: number): this {
    return this.u32(n % 2 ** 32).u32(Math.floor(n / 2 ** 32));
  }
  raw(b: Uint8Array): this {
    this.bytes.set(b, this.at);
    this.at += b.byteLength;
    return this;
  }
}

/** An entry's local file header (4.3.7): no CRC or sizes in it, see the descriptor. */
export function localHeader(r: ZipRecord): Uint8Array {
  return new Writer(LOCAL + r.name.byteLength)
    .u32(0x04034b50)
    .u16(VERSION)
    .u16(FLAG_UTF8 | (hasBytes(r) ? FLAG_DESCRIPTOR : 0))
    .u16(0) // stored
    .u32(r.dosTime)
    .u32(0) // CRC-32: in the descriptor (or 0: no bytes)
    .u32(0)
    .u32(0)
    .u16(r.name.byteLength)
    .u16(0)
    .raw(r.name).bytes;
}

/** The data descriptor after an entry's bytes (4.3.9), or nothing for an entry without bytes. */
export function descriptor(r: ZipRecord, crc: number): Uint8Array {
  const length = descriptorLength(r);
  if (length === 0) return new Uint8Array(0);
  const w = new Writer(length).u32(0x08074b50).u32(crc);
  return length === DESCRIPTOR_64 ? w.u64(r.size).u64(r.size).bytes : w.u32(r.size).u32(r.size).bytes;
}

/** An entry's central directory header (4.3.12) with its ZIP64 extra field (4.5.3) if it needs one. */
export function centralHeader(r: ZipRecord, crc: number): Uint8Array {
  const extra = extra64Length(r);
  const size32 = needs64(r.size) ? U32_MAX : r.size;
  const w = new Writer(CENTRAL + r.name.byteLength + extra)
    .u32(0x02014b50)
    .u16(MADE_BY)
    .u16(VERSION)
    .u16(FLAG_UTF8 | (hasBytes(r) ? FLAG_DESCRIPTOR : 0))
    .u16(0)
    .u32(r.dosTime)
    .u32(crc)
    .u32(size32)
    .u32(size32)
    .u16(r.name.byteLength)
    .u16(extra)
    .u16(0) // comment
    .u16(0) // disk
    .u16(0) // internal attributes
    .u32((((r.dir ? MODE_DIR : MODE_FILE) << 16) | (r.dir ? DOS_DIR : 0)) >>> 0)
    .u32(needs64(r.offset) ? U32_MAX : r.offset)
    .raw(r.name);
  if (extra) {
    w.u16(0x0001).u16(extra - 4);
    if (needs64(r.size)) w.u64(r.size).u64(r.size);
    if (needs64(r.offset)) w.u64(r.offset);
  }
  return w.bytes;
}

/** The end records (4.3.14-4.3.16): ZIP64's end record and locator first when needed. */
export function endRecords(l: ZipLayout): Uint8Array {
  const count = l.records.length;
  const zip64 = end64(l);
  const w = new Writer(END + (zip64 ? END_64 + LOCATOR_64 : 0));
  if (zip64) {
    const at = l.centralOffset + l.centralSize;
    w.u32(0x06064b50)
      .u64(END_64 - 12)
      .u16(MADE_BY)
      .u16(VERSION)
      .u32(0)
      .u32(0);
    w.u64(count).u64(count).u64(l.centralSize).u64(l.centralOffset);
    w.u32(0x07064b50).u32(0).u64(at).u32(1);
  }
  w.u32(0x06054b50).u16(0).u16(0);
  w.u16(Math.min(count, U16_MAX)).u16(Math.min(count, U16_MAX));
  w.u32(Math.min(l.centralSize, U32_MAX)).u32(Math.min(l.centralOffset, U32_MAX)).u16(0);
  return w.bytes;
}
