// Previews (?inline=1, ?inline=text, CreateDownloadUrl.inline): each kind's headers on a real data plane,
// hostile HTML and SVG never get an executable type, ranges work inline, links carry the mode.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Identity } from "../../core/access-token.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { createDownloadUrl } from "./download.ts";
import { previewModeOf, previewTypeFor } from "./preview.ts";
import { type DownloadFixture, filenameOf, openDownloadFixture } from "./testing.ts";

const SANDBOX = "default-src 'none'; sandbox";
const text = (s: string) => new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;

test("preview types by kind; anything else stays an attachment", () => {
  const inline: [string, string][] = [
    ["a.JPG", "image/jpeg"],
    ["a.jpeg", "image/jpeg"],
    ["a.png", "image/png"],
    ["a.gif", "image/gif"],
    ["a.webp", "image/webp"],
    ["a.avif", "image/avif"],
    ["a.svg", "image/svg+xml"],
    ["a.pdf", "application/pdf"],
    ["a.mp3", "audio/mpeg"],
    ["a.flac", "audio/flac"],
    ["a.mp4", "video/mp4"],
    ["a.webm", "video/webm"],
    ["a.txt", "text/plain; charset=utf-8"],
    ["a.ts", "text/plain; charset=utf-8"],
    ["a.html", "text/plain; charset=utf-8"],
    ["a.htm", "text/plain; charset=utf-8"],
    ["a.xhtml", "text/plain; charset=utf-8"],
    ["a.xml", "text/plain; charset=utf-8"],
    ["a.js", "text/plain; charset=utf-8"],
    ["a.json", "text/plain; charset=utf-8"],
  ];
  for (const [name, type] of inline) expect([name, previewTypeFor(name, "inline")]).toEqual([name, type]);
  for (const name of ["a.zip", "a.exe", "a.docx", "noext", "a.swf", "a.xsl", "a.mht"])
    expect([name, previewTypeFor(name, "inline")]).toEqual([name, undefined]);
  for (const name of ["a.svg", "a.html", "a.bin"])
    expect(previewTypeFor(name, "text")).toBe("text/plain; charset=utf-8");
});

test("the preview mode of a URL", () => {
  expect(previewModeOf("http://h/download/v1/files/x")).toBeUndefined();
  expect(previewModeOf("http://h/download/v1/files/x?inline=1")).toBe("inline");
  expect(previewModeOf("http://h/download/v1/files/x?a=b&inline=true")).toBe("inline");
  expect(previewModeOf("http://h/download/v1/files/x?inline=text")).toBe("text");
  expect(previewModeOf("http://h/download/v1/files/x?inline=0")).toBeUndefined();
  expect(previewModeOf("http://h/download/v1/files/x?notinline=1")).toBeUndefined();
});

for (const backend of testBlobStores()) {
  describe(`previews on ${backend.backend}`, () => {
    let f: DownloadFixture;
    let alice: { who: Identity; token: string };
    const ids: Record<string, string> = {};
    const get = (name: string, query: string, extra: Record<string, string> = {}) =>
      f.get(`/download/v1/files/${ids[name]}${query}`, { authorization: `Bearer ${alice.token}`, ...extra });
    const files: Record<string, Uint8Array<ArrayBuffer>> = {
      "photo.png": new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 1, 2, 3]),
      "clip.mp4": new Uint8Array(Array.from({ length: 4096 }, (_, i) => i & 0xff)),
      "doc.pdf": text("%PDF-1.4\n%%EOF\n"),
      "evil.html": text("<html><script>alert(document.domain)</script></html>"),
      "evil.svg": text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      "notes.md": text("# hello\n"),
      "archive.zip": text("PK\u0003\u0004"),
    };

    beforeAll(async () => {
      f = await openDownloadFixture(backend);
      alice = await f.user("alice");
      for (const [name, bytes] of Object.entries(files)) ids[name] = (await f.put(alice.who, name, bytes)).id;
    });
    afterAll(() => f?.close());

    test("each kind: inline with its type, sandboxed and nosniff; the name is kept", async () => {
      const expected: Record<string, string | undefined> = {
        "photo.png": "image/png",
        "clip.mp4": "video/mp4",
        "doc.pdf": "application/pdf",
        "evil.html": "text/plain; charset=utf-8",
        "evil.svg": "image/svg+xml",
        "notes.md": "text/plain; charset=utf-8",
        "archive.zip": undefined,
      };
      for (const [name, type] of Object.entries(expected)) {
        const res = await get(name, "?inline=1");
        expect(res.status).toBe(200);
        const cd = res.headers.get("content-disposition") as string;
        expect([name, cd.split(";")[0]]).toEqual([name, type ? "inline" : "attachment"]);
        expect(filenameOf(cd)).toBe(name);
        if (type) expect(res.headers.get("content-type")).toBe(type);
        expect(res.headers.get("x-content-type-options")).toBe("nosniff");
        expect(res.headers.get("content-security-policy")).toBe(SANDBOX);
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(files[name] as Uint8Array<ArrayBuffer>);
      }
    });

    test("HTML and SVG with scripts never get an executable type; without inline, attachments", async () => {
      for (const query of ["", "?inline=1", "?inline=text", "?inline=true"]) {
        for (const name of ["evil.html", "evil.svg"]) {
          const res = await get(name, query);
          const type = res.headers.get("content-type") as string;
          expect(type).not.toContain("html");
          expect(type).not.toContain("xml+xhtml");
          expect(res.headers.get("content-security-policy")).toBe(SANDBOX);
          expect(res.headers.get("x-content-type-options")).toBe("nosniff");
          // An SVG rendered as an image (inline=1) is sandboxed: scripts never run.
          if (query === "?inline=text") expect(type).toBe("text/plain; charset=utf-8");
          if (query === "") expect(res.headers.get("content-disposition")).toStartWith("attachment");
          await res.arrayBuffer();
        }
      }
    });

    test("ranged playback inline: 206 with the range, the same inline headers", async () => {
      const res = await get("clip.mp4", "?inline=1", { range: "bytes=100-199" });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-range")).toBe("bytes 100-199/4096");
      expect(res.headers.get("content-type")).toBe("video/mp4");
      expect(res.headers.get("content-disposition")).toStartWith("inline");
      expect(res.headers.get("content-security-policy")).toBe(SANDBOX);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(
        (files["clip.mp4"] as Uint8Array).slice(100, 200),
      );
      // Cached lookups (the second request of a player) answer the same.
      const again = await get("clip.mp4", "?inline=1", { range: "bytes=0-9" });
      expect(again.status).toBe(206);
      expect(again.headers.get("content-disposition")).toStartWith("inline");
      await again.arrayBuffer();
      const plain = await get("clip.mp4", "", { range: "bytes=0-9" });
      expect(plain.headers.get("content-disposition")).toStartWith("attachment");
      await plain.arrayBuffer();
    });

    test("CreateDownloadUrl(inline) gives a link answered inline; as_text as text/plain", async () => {
      const { url } = await createDownloadUrl(f.deps, alice.who, {
        fileId: ids["photo.png"] as string,
        sha1: "",
        ttlSeconds: 0,
        inline: true,
      });
      expect(url).toContain("inline=1");
      const res = await f.get(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      expect(res.headers.get("content-disposition")).toStartWith("inline");
      await res.arrayBuffer();
      const src = await createDownloadUrl(f.deps, alice.who, {
        fileId: ids["evil.svg"] as string,
        sha1: "",
        ttlSeconds: 0,
        inline: true,
        asText: true,
      });
      const res2 = await f.get(src.url);
      expect(res2.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(res2.headers.get("content-disposition")).toStartWith("inline");
      await res2.arrayBuffer();
    });
  });
}
