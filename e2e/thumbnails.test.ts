// Previews and thumbnails through the gateway, in either mode: an image uploaded gets its thumbnails in
// the background (the file worker's sweep), GetThumbnails hands out signed URLs an <img> can use without a
// token, the route caches for long and refuses forged URLs, and ?inline=1 previews keep the sandbox.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import sharp from "sharp";
import { connectCall, eventually, type Stack, signedInUser, startStack } from "./harness.ts";

const MODE = process.env.FILESTORE_TEST_MODE ?? "allinone";
const DOWNLOAD = "filestore.download.v1.DownloadService";

let stack: Stack;
let alice: Awaited<ReturnType<typeof signedInUser>>;

async function upload(name: string, body: Uint8Array) {
  const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${alice.accessToken}` },
    body: new Uint8Array(body),
  });
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { file: { id: string } }).file;
}

type Thumb = { fileId: string; state: string; url?: string };
const thumbnails = async (fileIds: string[], size = "THUMBNAIL_SIZE_SMALL") => {
  const r = await connectCall(
    stack.gatewayUrl,
    `${DOWNLOAD}/GetThumbnails`,
    { fileIds, size },
    { authorization: `Bearer ${alice.accessToken}` },
  );
  if (r.status !== 200) throw new Error(`GetThumbnails: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.thumbnails as Thumb[];
};

beforeAll(async () => {
  stack = await startStack({ THUMBNAIL_SWEEP_SECONDS: "1" });
  alice = await signedInUser(stack.gatewayUrl);
}, 60_000);
afterAll(() => stack?.stop());

describe(`previews and thumbnails through the gateway (${MODE})`, () => {
  test("an uploaded image gets thumbnails; signed URLs work without a token, forged ones do not", async () => {
    const photo = await sharp({ create: { width: 1200, height: 800, channels: 3, background: "#336699" } })
      .jpeg()
      .toBuffer();
    const a = await upload("holiday.jpg", photo);
    const b = await upload("holiday copy.jpg", photo);
    const text = await upload("readme.txt", new TextEncoder().encode("hello"));
    let got: Thumb[] = [];
    const ready = await eventually(async () => {
      got = await thumbnails([a.id, b.id, text.id]);
      return got[0]?.state === "THUMBNAIL_STATE_READY";
    }, 30_000);
    expect(ready).toBe(true);
    expect(got.map((t) => t.state)).toEqual([
      "THUMBNAIL_STATE_READY",
      "THUMBNAIL_STATE_READY",
      "THUMBNAIL_STATE_NONE",
    ]);
    // One thumbnail per content.
    expect(got[1]?.url).toBe(got[0]?.url as string);

    for (const [size, px] of [
      ["THUMBNAIL_SIZE_SMALL", 256],
      ["THUMBNAIL_SIZE_LARGE", 1024],
    ] as const) {
      const url = (await thumbnails([a.id], size))[0]?.url as string;
      const res = await fetch(`${stack.gatewayUrl}${url}`); // no Authorization: as an <img> asks
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/webp");
      expect(res.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const etag = res.headers.get("etag") as string;
      const m = await sharp(await res.arrayBuffer()).metadata();
      expect([m.format, m.width]).toEqual(["webp", px]);
      const again = await fetch(`${stack.gatewayUrl}${url}`, { headers: { "if-none-match": etag } });
      expect(again.status).toBe(304);
    }

    const url = got[0]?.url as string;
    for (const bad of [
      url.slice(0, url.indexOf("?")),
      url.replace(/sig=(.)/, (_, c) => `sig=${c === "A" ? "B" : "A"}`),
    ]) {
      const res = await fetch(`${stack.gatewayUrl}${bad}`);
      expect([bad, res.status]).toEqual([bad, 403]);
      await res.arrayBuffer();
    }
  }, 60_000);

  test("previews: inline with a safe type, HTML as text, ranges inline, links with inline", async () => {
    const html = await upload("page.html", new TextEncoder().encode("<script>alert(1)</script>"));
    const video = await upload("clip.mp4", new Uint8Array(5000).fill(7));
    const auth = { authorization: `Bearer ${alice.accessToken}` };
    const page = await fetch(`${stack.gatewayUrl}/download/v1/files/${html.id}?inline=1`, { headers: auth });
    expect(page.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(page.headers.get("content-disposition")).toStartWith("inline");
    expect(page.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    await page.arrayBuffer();
    const part = await fetch(`${stack.gatewayUrl}/download/v1/files/${video.id}?inline=1`, {
      headers: { ...auth, range: "bytes=10-19" },
    });
    expect([part.status, part.headers.get("content-type")]).toEqual([206, "video/mp4"]);
    expect(part.headers.get("content-disposition")).toStartWith("inline");
    expect((await part.arrayBuffer()).byteLength).toBe(10);
    const link = await connectCall(
      stack.gatewayUrl,
      `${DOWNLOAD}/CreateDownloadUrl`,
      { fileId: video.id, inline: true },
      auth,
    );
    const viaLink = await fetch(`${stack.gatewayUrl}${link.json.url as string}`, { redirect: "manual" });
    if (viaLink.status === 302) {
      // S3 with redirects: the bucket answers with the overridden headers.
      expect(viaLink.headers.get("location")).toContain("inline");
    } else {
      expect(viaLink.headers.get("content-disposition")).toStartWith("inline");
      expect(viaLink.headers.get("content-type")).toBe("video/mp4");
    }
    await viaLink.arrayBuffer();
  });
});
