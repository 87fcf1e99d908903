import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "./args.ts";
import { CredentialStore, type Credentials, configDir, serverUrl } from "./credentials.ts";
import { refreshMargin } from "./session.ts";
import { tempDirs } from "./testing.ts";

const tempDir = tempDirs();

const creds = (n: number): Credentials => ({
  username: "alice",
  userId: "u1",
  accessToken: `a${n}`,
  accessTokenIssuedAt: 500,
  accessTokenExpiresAt: 1000 + n,
  refreshToken: `r${n}`,
  refreshTokenExpiresAt: 2000 + n,
});

describe("where things are", () => {
  test("XDG_CONFIG_HOME, else ~/.config", () => {
    expect(configDir({ XDG_CONFIG_HOME: "/x", HOME: "/h" })).toBe("/x/filestore");
    expect(configDir({ HOME: "/h" })).toBe("/h/.config/filestore");
    expect(configDir({ XDG_CONFIG_HOME: "", HOME: "/h" })).toBe("/h/.config/filestore");
  });

  test("server: flag, else FILESTORE_URL, else localhost:8080; normalized; bad ones refused", () => {
    expect(serverUrl("https://files.example/", { FILESTORE_URL: "http://other" })).toBe(
      "https://files.example",
    );
    expect(serverUrl(undefined, { FILESTORE_URL: "http://h:9/base/" })).toBe("http://h:9/base");
    expect(serverUrl(undefined, {})).toBe("http://localhost:8080");
    expect(() => serverUrl("localhost:8080", {})).toThrow(UsageError);
    expect(() => serverUrl("ftp://x", {})).toThrow("http:// or https://");
  });
});

describe("CredentialStore", () => {
  test("per-server entries; directory 0700 and file 0600 even when the dir existed wider", () => {
    const base = tempDir();
    const dir = join(base, "filestore");
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const store = new CredentialStore(dir);
    expect(store.get("http://a")).toBeUndefined();
    store.set("http://a", creds(1));
    store.set("http://b", creds(2));
    expect(store.get("http://a")).toEqual(creds(1));
    expect(store.get("http://b")).toEqual(creds(2));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    store.set("http://a", undefined);
    expect(store.get("http://a")).toBeUndefined();
    expect(store.get("http://b")).toEqual(creds(2));
    expect(readdirSync(dir)).toEqual(["credentials.json"]); // no temp files left behind
  });

  test("a damaged file is reported with what to do", () => {
    const dir = tempDir();
    const store = new CredentialStore(dir);
    writeFileSync(store.file, "{not json");
    expect(() => store.get("http://a")).toThrow("is damaged: delete it and run filestore login again");
  });

  test("the lock serializes holders, and a stale lock is taken over", async () => {
    const store = new CredentialStore(tempDir());
    const order: string[] = [];
    const hold = (name: string) =>
      store.withLock(async () => {
        order.push(`${name}+`);
        await Bun.sleep(30);
        order.push(`${name}-`);
      });
    await Promise.all([hold("a"), hold("b")]);
    expect(order.join(" ")).toMatch(/^(a\+ a- b\+ b-|b\+ b- a\+ a-)$/);

    const dead = Bun.spawn(["true"]);
    await dead.exited;
    writeFileSync(store.lockFile, String(dead.pid)); // its holder was killed while refreshing
    expect(await store.withLock(async () => "free", 60_000, 100)).toBe("free");

    writeFileSync(store.lockFile, ""); // a holder unknown: only its age tells
    await expect(store.withLock(async () => "late", 60_000, 100)).rejects.toThrow(
      "held by another filestore process",
    );
    expect(await store.withLock(async () => "took over", 0)).toBe("took over");
  });
});

test("tokens are refreshed a minute before they expire, or a third of their lifetime when short", () => {
  const at = (issued: number, expires: number) => ({
    ...creds(0),
    accessTokenIssuedAt: issued,
    accessTokenExpiresAt: expires,
  });
  expect(refreshMargin(at(0, 15 * 60_000))).toBe(60_000);
  expect(refreshMargin(at(0, 30_000))).toBe(10_000);
});
