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
