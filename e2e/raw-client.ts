// A raw TCP client for the hostile-client tests: requests that declare a body and never send it, heads
// that never end, bodies that stall. fetch() cannot stop half-way, so these write bytes by hand.
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves with the milliseconds from `since()` to the server closing the connection. */
  closed: Promise<number>;
  /** Restarts the clock that `closed` measures from (e.g. after the last byte sent). */
  since(): void;
  write(data: string | Uint8Array): Promise<void>;
  destroy(): void;
}

/** A TCP connection to the host and port of `baseUrl`. */
export async function rawConnect(baseUrl: string): Promise<RawConnection> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => undefined); // a reset by the server is an answer too
  let start = performance.now();
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  const closed = new Promise<number>((resolve) =>
    socket.once("close", () => resolve(performance.now() - start)),
  );
  return {
    socket,
    received: () => Buffer.concat(chunks).toString("latin1"),
    closed,
    since() {
      start = performance.now();
    },
    write: (data) =>
      new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve()))),
    destroy: () => socket.destroy(),
  };
}

/** An HTTP/1.1 request head. */
export function head(method: string, path: string, headers: Record<string, string>): string {
  const lines = Object.entries({ host: "filestore.test", ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}

/** Resolves with true when `p` settles within `ms`, false otherwise. */
export const within = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

/** Resident memory of a process (MiB), from /proc. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}
