// Many writes at once through the gateway: every one succeeds. On MariaDB (services mode) concurrent
// uploads used to deadlock in meta and answer 500; SQLite (all-in-one) serializes its writers, so
// there the same runs check that nothing else breaks under the load. One name per folder holds under 20
// uploads of that name at once with each conflict policy (issue 16), on both databases.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  connectCall,
  MODE,
  randomBytes,
  type Stack,
  signedInUser,
  startStack,
  type UploadSessionJson,
} from "./harness.ts";

const UPLOAD = "filestore.upload.v1.UploadService";
const FILES = "filestore.file.v1.FileService";
const TOTAL = 200;
const IN_FLIGHT = 8;

type User = Awaited<ReturnType<typeof signedInUser>>;
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** Runs job(0..total-1) with `inFlight` at a time; the outcome of each, in order. */
async function inParallel<T>(total: number, inFlight: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(total);
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const i = next++;
      out[i] = await job(i);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return out;
}

/** "ok", or what went wrong (status and answer), so that a failure shows every distinct error at once. */
const outcome = async (res: Response, expected: number): Promise<string> =>
  res.status === expected ? "ok" : `${res.status} ${await res.text()}`;

/** The distinct failures (request ids left out, so that alike failures count once). */
const failures = (outcomes: string[]) => [
  ...new Set(outcomes.filter((o) => o !== "ok").map((o) => o.replace(/ \(request id [^)]*\)/g, ""))),
];

/**
 * Job i goes into the user's folder or the root, alternating for every user: the two shapes of adding a
 * file (a folder to check, or none) meet, as they did when they took their locks in opposite orders.
 */
const intoFolder = (i: number) => (i + Math.floor(i / IN_FLIGHT)) % 2 === 1;

describe(`concurrent writes (${MODE})`, () => {
  let stack: Stack;
  let users: User[];
  const auth = (u: User) => ({ authorization: `Bearer ${u.accessToken}` });
  const rpc = (u: User, path: string, body: unknown) => connectCall(stack.gatewayUrl, path, body, auth(u));

  beforeAll(async () => {
    // The completion tests open all their sessions before completing any: past the default cap of open
    // sessions per user (what they test is lock conflicts, not that cap).
    stack = await startStack({ UPLOAD_MAX_OPEN_SESSIONS_PER_USER: String(TOTAL * 2) });
    users = [];
    for (let i = 0; i < IN_FLIGHT; i++) users.push(await signedInUser(stack.gatewayUrl));
  }, 120_000);
  afterAll(() => stack?.stop());

  /** A new folder of the user; its id. */
  const folderOf = async (u: User, name: string) => {
    const r = await rpc(u, `${FILES}/CreateFolder`, { name });
    expect(r.status).toBe(200);
    return (r.json.folder as { id: string }).id;
  };

  const upload = (u: User, parentId: string, name: string, data: Uint8Array<ArrayBuffer>) =>
    fetch(`${stack.gatewayUrl}/upload/v1/files?${new URLSearchParams({ name, parent_id: parentId })}`, {
      method: "PUT",
      headers: auth(u),
      body: data,
    });

  const count = async (u: User, parentId: string) => {
    const r = await rpc(u, `${FILES}/ListFiles`, { parentId, pageSize: 1000 });
    return (r.json.files as unknown[] | undefined)?.length ?? 0;
  };

  /** A folder named `tag` for each user; parentFor(i) is job i's target (see intoFolder). */
  async function foldersFor(tag: string, who: (i: number) => User) {
    const folders = new Map<User, string>();
    for (const u of new Set(Array.from({ length: TOTAL }, (_, i) => who(i))))
      folders.set(u, await folderOf(u, tag));
    return {
      parentFor: (i: number) => (intoFolder(i) ? (folders.get(who(i)) ?? "") : ""),
      /** How many entries the folders hold together. */
      async listed() {
        let n = 0;
        for (const [u, folder] of folders) n += await count(u, folder);
        return n;
      },
    };
  }
  const inFolders = Array.from({ length: TOTAL }, (_, i) => i).filter(intoFolder).length;

  /** TOTAL small uploads of `content(i)`, IN_FLIGHT at a time, by `who(i)`: all succeed. */
  async function uploads(
    tag: string,
    who: (i: number) => User,
    content: (i: number) => Uint8Array<ArrayBuffer>,
  ) {
    const folders = await foldersFor(tag, who);
    const outcomes = await inParallel(TOTAL, IN_FLIGHT, async (i) =>
      outcome(await upload(who(i), folders.parentFor(i), `${tag}-${i}.txt`, content(i)), 201),
    );
    expect(failures(outcomes)).toEqual([]);
    expect(await folders.listed()).toBe(inFolders);
  }

  test(`${TOTAL} small uploads of distinct content, ${IN_FLIGHT} in flight by one user: all succeed`, async () => {
    await uploads(
      "one-user",
      () => users[0] as User,
      () => randomBytes(1000),
    );
  }, 180_000);

  test(`${TOTAL} small uploads of distinct content, ${IN_FLIGHT} in flight by ${IN_FLIGHT} users: all succeed`, async () => {
    await uploads(
      "many-users",
      (i) => users[i % IN_FLIGHT] as User,
      () => randomBytes(1000),
    );
  }, 180_000);

  test(`${TOTAL} uploads of one content at once, by ${IN_FLIGHT} users: all succeed`, async () => {
    const data = randomBytes(1000);
    await uploads(
      "same",
      (i) => users[i % IN_FLIGHT] as User,
      () => data,
    );
  }, 180_000);

  /**
   * TOTAL one-part sessions of `content(i)` by `who(i)`, their parts sent first; then every completion,
   * IN_FLIGHT at a time (so that completions, not part uploads, meet).
   */
  async function completions(tag: string, who: (i: number) => User, content: (i: number) => Uint8Array) {
    const folders = await foldersFor(tag, who);
    const sessions = await inParallel(TOTAL, IN_FLIGHT, async (i) => {
      const data = content(i) as Uint8Array<ArrayBuffer>;
      const created = await rpc(who(i), `${UPLOAD}/CreateUploadSession`, {
        name: `${tag}-${i}.bin`,
        parentId: folders.parentFor(i),
        size: String(data.length),
        sha256: sha256(data),
      });
      expect(created.status).toBe(200);
      const { sessionId, partCount } = created.json as unknown as UploadSessionJson;
      expect(partCount).toBe(1);
      const put = await fetch(`${stack.gatewayUrl}/upload/v1/sessions/${sessionId}/parts/1`, {
        method: "PUT",
        headers: auth(who(i)),
        body: data,
      });
      expect(await outcome(put, 200)).toBe("ok");
      return { sessionId, sha256: sha256(data) };
    });
    const outcomes = await inParallel(TOTAL, IN_FLIGHT, async (i) => {
      const { sessionId, sha256: expected } = sessions[i] as { sessionId: string; sha256: string };
      const done = await rpc(who(i), `${UPLOAD}/CompleteUploadSession`, { sessionId });
      const file = done.json.file as { sha256?: string } | undefined;
      return done.status === 200 && file?.sha256 === expected
        ? "ok"
        : `${done.status} ${JSON.stringify(done.json)}`;
    });
    expect(failures(outcomes)).toEqual([]);
    expect(await folders.listed()).toBe(inFolders);
  }

  test(`${TOTAL} multipart completions of distinct content, ${IN_FLIGHT} in flight by one user: all succeed`, async () => {
    await completions(
      "complete-one-user",
      () => users[0] as User,
      () => randomBytes(2000),
    );
  }, 240_000);

  test(`${TOTAL} multipart completions of one content, ${IN_FLIGHT} in flight by ${IN_FLIGHT} users: all succeed`, async () => {
    const data = randomBytes(2000);
    await completions(
      "complete-same",
      (i) => users[i % IN_FLIGHT] as User,
      () => data,
    );
  }, 240_000);

  /** TOTAL instant uploads (offer, then proof) of one content by `who(i)`, IN_FLIGHT at a time. */
  async function instantUploads(tag: string, who: (i: number) => User) {
    const data = randomBytes(100_000);
    expect((await upload(users[0] as User, "", `${tag}.bin`, data)).status).toBe(201);
    const folders = await foldersFor(tag, who);
    const outcomes = await inParallel(TOTAL, IN_FLIGHT, async (i) => {
      const offer = await rpc(who(i), `${UPLOAD}/OfferContent`, {
        sha256: sha256(data),
        size: String(data.length),
        name: `${tag}-${i}.bin`,
        parentId: folders.parentFor(i),
      });
      const c = offer.json as { challengeId?: string; rangeStart?: string; rangeLength?: string };
      if (offer.status !== 200 || !c.challengeId) return `offer: ${offer.status} ${JSON.stringify(c)}`;
      const start = Number(c.rangeStart ?? 0);
      const range = data.subarray(start, start + Number(c.rangeLength ?? 0));
      const proved = await rpc(who(i), `${UPLOAD}/ProveContent`, {
        challengeId: c.challengeId,
        rangeSha256: sha256(range),
      });
      return proved.status === 200 ? "ok" : `prove: ${proved.status} ${JSON.stringify(proved.json)}`;
    });
    expect(failures(outcomes)).toEqual([]);
    expect(await folders.listed()).toBe(inFolders);
  }

  test(`${TOTAL} instant uploads of one content, ${IN_FLIGHT} in flight by one user: all succeed`, async () => {
    await instantUploads("instant-one-user", () => users[1] as User);
  }, 180_000);

  test(`${TOTAL} instant uploads of one content, ${IN_FLIGHT} in flight by ${IN_FLIGHT} users: all succeed`, async () => {
    await instantUploads("instant-many-users", (i) => users[i % IN_FLIGHT] as User);
  }, 180_000);

  test("20 uploads of one name at once: fail (one wins, 19 × 409 NAME_TAKEN), rename (20 names), replace (one entry, versions trimmed)", async () => {
    const u = users[2] as User;
    const all = (folder: string, policy: string) =>
      Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const q = new URLSearchParams({ name: "same.txt", parent_id: folder, on_conflict: policy });
          const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?${q}`, {
            method: "PUT",
            headers: auth(u),
            body: randomBytes(100 + i),
          });
          return { status: res.status, text: await res.text() };
        }),
      );
    const names = async (folder: string) => {
      const r = await rpc(u, `${FILES}/ListFiles`, { parentId: folder, pageSize: 1000 });
      return ((r.json.files ?? []) as { id: string; name: string }[]).map((f) => f);
    };

    const failDir = await folderOf(u, "same-fail");
    const failed = await all(failDir, "fail");
    expect(failed.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = failed.filter((r) => r.status === 409);
    expect(refused).toHaveLength(19);
    for (const r of refused) expect(r.text).toContain("NAME_TAKEN");
    expect(await names(failDir)).toHaveLength(1);

    const renameDir = await folderOf(u, "same-rename");
    expect(failures((await all(renameDir, "rename")).map((r) => (r.status === 201 ? "ok" : r.text)))).toEqual(
      [],
    );
    const renamed = (await names(renameDir)).map((f) => f.name);
    expect(new Set(renamed).size).toBe(20);
    expect(renamed).toEqual(expect.arrayContaining(["same.txt", "same (20).txt"]));

    const replaceDir = await folderOf(u, "same-replace");
    const replaced = await all(replaceDir, "replace");
    expect(failures(replaced.map((r) => (r.status === 201 ? "ok" : r.text)))).toEqual([]);
    const ids = new Set(replaced.map((r) => (JSON.parse(r.text) as { file: { id: string } }).file.id));
    expect(ids.size).toBe(1);
    const [only, ...more] = await names(replaceDir);
    expect(more).toEqual([]);
    // 19 replacements, trimmed to VERSIONS_KEEP (10) as each one lands.
    const versions = await rpc(u, `${FILES}/ListVersions`, { fileId: only?.id });
    expect((versions.json.versions as unknown[]).length).toBe(10);
  }, 120_000);
});
