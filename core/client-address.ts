// Which address a request comes from, behind proxies we trust: Web-standard (no Node or Bun imports), so the
// gateway (under Deno) and the workers apply the same rule.

/**
 * 16 bytes: an IPv6 address, or an IPv4 one in its IPv4-mapped form (::ffff:a.b.c.d), so that one rule
 * matches both spellings of an IPv4 peer (a dual-stack socket reports "::ffff:10.1.2.3").
 */
export function parseIp(text: string): Uint8Array | undefined {
  const v4 = parseIpv4(text);
  if (v4) return Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4);
  return parseIpv6(text);
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^(0|[1-9][0-9]{0,2})$/.test(p) ? Number(p) : 256));
  return bytes.every((b) => b < 256) ? bytes : undefined;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const address = text.split("%", 1)[0] as string; // a zone ("fe80::1%eth0") names an interface, not a host
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): number[] | undefined => {
    if (!half) return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (const [i, p] of parts.entries()) {
      const v4 = i === parts.length - 1 && p.includes(".") ? parseIpv4(p) : undefined;
      if (v4)
        out.push((v4[0] as number) * 256 + (v4[1] as number), (v4[2] as number) * 256 + (v4[3] as number));
      else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  return Uint8Array.from(all.flatMap((g) => [g >> 8, g & 0xff]));
}

const isMappedV4 = (b: Uint8Array) =>
  b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** "10.0.0.0/8", "fd00::/8" or a single address, as bytes and a prefix length over the 16-byte form. */
function parseNetwork(entry: string): { bytes: Uint8Array; bits: number } | undefined {
  const [addr = "", bits, extra] = entry.split("/");
  const bytes = parseIp(addr);
  if (!bytes || extra !== undefined) return undefined;
  const max = parseIpv4(addr) ? 32 : 128;
  if (bits === undefined) return { bytes, bits: 128 };
  if (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return { bytes, bits: Number(bits) + (128 - max) };
}

function inNetwork(addr: Uint8Array, net: { bytes: Uint8Array; bits: number }): boolean {
  const whole = net.bits >> 3;
  for (let i = 0; i < whole; i++) if (addr[i] !== net.bytes[i]) return false;
  const rest = net.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((addr[whole] as number) & mask) === ((net.bytes[whole] as number) & mask);
}

/**
 * A test for "is this address one of our proxies": entries are addresses or networks in CIDR notation
 * ("10.0.0.0/8", "fd00::/8"; a Kubernetes pod network has no fixed address). A bad entry throws, so a
 * typo stops the process at start rather than silently trusting nobody.
 */
export function trustedProxies(entries: string[]): (addr: string) => boolean {
  const nets = entries.map((e) => {
    const net = parseNetwork(e);
    if (!net)
      throw new Error(`TRUSTED_PROXIES: bad network "${e}" (an address, or a network like 10.0.0.0/8)`);
    return net;
  });
  return (addr) => {
    const bytes = parseIp(addr);
    return bytes !== undefined && nets.some((n) => inNetwork(bytes, n));
  };
}

/** TRUSTED_PROXIES as written (comma-separated); `fallback` when unset or empty. */
export function parseProxyList(raw: string | undefined, fallback: string[] = []): string[] {
  if (!raw?.trim()) return fallback;
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** One X-Forwarded-For hop as an address: some proxies add a port ("1.2.3.4:5678", "[::1]:443"). */
function hopAddress(hop: string): string | undefined {
  let h = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::[0-9]+)?$/.exec(h);
  if (bracketed) h = bracketed[1] as string;
  else if (/^[0-9.]+:[0-9]+$/.test(h)) h = h.slice(0, h.indexOf(":"));
  return parseIp(h) ? h : undefined;
}

/**
 * The client address: the TCP peer, unless the peer is a trusted proxy; then the rightmost
 * X-Forwarded-For hop that is not a trusted proxy (each trusted proxy appends the address it saw, so every
 * hop left of the first untrusted one was written by the client and proves nothing). When every hop is
 * trusted the leftmost is the client; a hop that is no address ends the walk at the proxy that wrote it.
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | null | undefined,
  trusted: (addr: string) => boolean,
): string {
  if (!forwardedFor || !trusted(peer)) return peer;
  const hops = forwardedFor.split(",");
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i] as string);
    if (hop === undefined) return client;
    client = hop;
    if (!trusted(hop)) return hop;
  }
  return client;
}

/**
 * The network a client address stands for when counting its requests: the address itself for IPv4, its /64
 * for IPv6 (one host usually holds a whole /64, and could otherwise pick a fresh address per request).
 * Anything that is not an address ("unknown") stands for itself.
 */
export function clientNetwork(addr: string): string {
  const b = parseIp(addr);
  if (!b) return addr;
  if (isMappedV4(b)) return b.subarray(12).join(".");
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push((((b[i] as number) << 8) | (b[i + 1] as number)).toString(16));
  return `${groups.join(":")}::/64`;
}

/**
 * The peer address as each runtime hands it to `fetch(req, env)`: Deno serve passes
 * `{ remoteAddr: { hostname } }`, Bun passes its server (with `requestIP`). In-process callers pass nothing.
 */
export function peerAddress(req: Request, env: unknown): string {
  const e = env as {
    remoteAddr?: { hostname?: string };
    requestIP?: (r: Request) => { address: string } | null;
  } | null;
  if (e?.remoteAddr?.hostname) return e.remoteAddr.hostname;
  if (typeof e?.requestIP === "function") return e.requestIP(req)?.address ?? "unknown";
  return "unknown";
}

/**
 * The client's address at the edge: the peer, or, when the peer is a proxy named in TRUSTED_PROXIES, the
 * rightmost X-Forwarded-For hop that is not one (clientAddress above).
 */
export function clientAddressOf(req: Request, env: unknown, trusted: (addr: string) => boolean): string {
  return clientAddress(peerAddress(req, env), req.headers.get("x-forwarded-for"), trusted);
}
