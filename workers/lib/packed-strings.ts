// A column of strings as one message field (filestore.meta.v1.PackedStrings): the strings concatenated
// and their lengths, so a page of a thousand names costs one UTF-8 encode and decode instead of a
// thousand. Lengths count UTF-16 code units, which is what String.prototype.slice takes.

/** The strings as a PackedStrings message's fields. */
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
