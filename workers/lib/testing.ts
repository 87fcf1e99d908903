// Helpers shared by unit tests.
import { type Code, ConnectError } from "@connectrpc/connect";

/** The Connect code a call fails with, or "ok". */
export async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}
