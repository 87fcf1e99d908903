// File and folder names as users give them. One rule set for every service (upload, rename, folders).

export const MAX_NAME_BYTES = 255;

/**
 * The name, NFC-normalized, or an error message a user can act on. Names may hold any Unicode except
 * "/" and control characters, may not be "." or "..", nor start or end with a space, and are at most
 * 255 UTF-8 bytes (what every common file system accepts).
 */
export function checkFileName(raw: string): { name: string } | { error: string } {
  const name = raw.normalize("NFC");
  if (name.length === 0) return { error: "a name is required" };
  if (name === "." || name === "..") return { error: 'a name cannot be "." or ".."' };
  if (name.includes("/")) return { error: 'a name cannot contain "/"' };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return { error: "a name cannot contain control characters" };
  if (name.trim() !== name) return { error: "a name cannot start or end with a space" };
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) {
    return { error: `a name is at most ${MAX_NAME_BYTES} bytes of UTF-8` };
  }
  return { name };
}

/** "photo.jpg" → ["photo", ".jpg"]; a leading dot is part of the stem (".bashrc" has no extension). */
function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
}

/**
 * The n-th name of a "keep both" series: numberedName("photo.jpg", 2) = "photo (2).jpg". A name that is
 * already numbered continues its series ("photo (2).jpg", 3 → "photo (3).jpg"). The stem is shortened
 * when needed so the result stays within MAX_NAME_BYTES.
 */
export function numberedName(name: string, n: number): string {
  const [stem, ext] = splitExtension(name);
  const root = stem.replace(/ \(\d+\)$/, "") || stem;
  const suffix = ` (${n})${ext}`;
  const bytes = (s: string) => new TextEncoder().encode(s).length;
  let kept = [...root];
  while (kept.length > 1 && bytes(kept.join("") + suffix) > MAX_NAME_BYTES) kept = kept.slice(0, -1);
  return kept.join("").trimEnd() + suffix;
}

/** The first numberedName(name, n ≥ 2) not in `taken` (names compared exactly). */
export function firstFreeName(name: string, taken: ReadonlySet<string>): string {
  for (let n = 2; ; n++) {
    const candidate = numberedName(name, n);
    if (!taken.has(candidate)) return candidate;
  }
}
