// Columns of a listing as few message fields (filestore.meta.v1.DavEntryColumns): strings concatenated
// with their lengths (PackedStrings), numbers as one run of little-endian doubles. A page of a thousand
// entries then costs a few UTF-8 encodes and byte copies instead of thousands of field writes and reads.

/** The strings as a PackedStrings message's fields. Lengths count UTF-16 code units (String.slice's). */
export function packStrings(values: readonly string[]): { text: string; lengths: number[] } {
  return { text: values.join(""), lengths: values.map((v) => v.length) };
}

/** The strings of a PackedStrings message (none when absent); throws when its lengths do not add up. */
export function unpackStrings(p: { text: string; lengths: number[] } | undefined): string[] {
  if (!p) return [];
  const out = new Array<string>(p.lengths.length);
  let at = 0;
  for (let i = 0; i < p.lengths.length; i++) {
    const end = at + (p.lengths[i] as number);
    out[i] = p.text.slice(at, end);
    at = end;
  }
  if (at !== p.text.length) throw new Error("packed strings: the lengths do not add up to the text");
  return out;
}

/** Numbers (exact up to 2^53) as 8 bytes each: IEEE 754 doubles, little-endian. */
export function packDoubles(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i] as number, true);
  return out;
}

/** The numbers of packDoubles' bytes; throws when they are not a whole number of doubles. */
export function unpackDoubles(bytes: Uint8Array): number[] {
  if (bytes.byteLength % 8 !== 0) throw new Error("packed doubles: not a multiple of 8 bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(bytes.byteLength / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}
