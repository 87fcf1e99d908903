// Free loopback ports for the servers an end-to-end test starts.
import { createServer } from "node:net";

/**
 * `n` distinct free ports: all are held open at once before any is released, so that the kernel cannot
 * hand the same port out twice (sequential calls of a bind-and-close helper can). From E2E_PORT_RANGE
 * ("lo-hi") when it is set, else any the kernel picks.
 */
export async function freePorts(n: number): Promise<number[]> {
  const range = portRange();
  const listen = (port: number) =>
    new Promise<ReturnType<typeof createServer>>((res, rej) => {
      const s = createServer();
      s.once("error", rej);
      s.listen(port, "127.0.0.1", () => res(s));
    });
  const servers: ReturnType<typeof createServer>[] = [];
  if (!range) servers.push(...(await Promise.all(Array.from({ length: n }, () => listen(0)))));
  else {
    // E2E_PORT_RANGE ("21000-21999"): machines shared by several runs give each its own range. Start at a
    // random place in it, so that parallel stacks of one run rarely try the same ports.
    const [lo, hi] = range;
    const start = lo + Math.floor(Math.random() * (hi - lo + 1));
    for (let i = 0; i <= hi - lo && servers.length < n; i++) {
      const s = await listen(lo + ((start - lo + i) % (hi - lo + 1))).catch(() => undefined);
      if (s) servers.push(s);
    }
    if (servers.length < n) throw new Error(`E2E_PORT_RANGE ${lo}-${hi} has fewer than ${n} free ports`);
  }
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
  return ports;
}

/** E2E_PORT_RANGE ("lo-hi") as numbers, when it is set. */
export function portRange(): [number, number] | undefined {
  const m = /^(\d+)-(\d+)$/.exec(process.env.E2E_PORT_RANGE ?? "");
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
