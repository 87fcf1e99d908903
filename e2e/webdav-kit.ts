// What the WebDAV end-to-end tests share: a signed-in user with an app password (WebDAV's credentials).
import { expect } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ACCOUNT, connectCall, sha256, signedInUser } from "./harness.ts";

export interface DavUser {
  username: string;
  password: string;
  accessToken: string;
  appPassword: string;
  /** The Authorization header of HTTP Basic with the app password. */
  basic: string;
}

/** A new user of the stack at `gatewayUrl` with an app password named `name`. */
export async function davUser(gatewayUrl: string, name = "webdav"): Promise<DavUser> {
  const user = await signedInUser(gatewayUrl);
  const made = await connectCall(
    gatewayUrl,
    `${ACCOUNT}/CreateAppPassword`,
    { name },
    { authorization: `Bearer ${user.accessToken}` },
  );
  expect(made.status).toBe(200);
  const appPassword = made.json.secret as string;
  return {
    username: user.username,
    password: user.password,
    accessToken: user.accessToken,
    appPassword,
    basic: `Basic ${Buffer.from(`${user.username}:${appPassword}`).toString("base64")}`,
  };
}

/** Every file under `root` as relative path → SHA-256. */
export function treeOf(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(root, p)] = sha256(readFileSync(p));
    }
  };
  walk(root);
  return out;
}
