// What the WebDAV end-to-end tests share: a signed-in user with an app password (WebDAV's credentials).
import { expect } from "bun:test";
import { ACCOUNT, connectCall, signedInUser } from "./harness.ts";

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
