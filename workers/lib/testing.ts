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

/** A local port nobody listens on (bound, then released): connecting to it is refused. */
export function closedPort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}
