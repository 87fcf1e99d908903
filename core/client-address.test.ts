import { describe, expect, test } from "bun:test";
import { clientAddress, clientNetwork, parseIp, parseProxyList, trustedProxies } from "./client-address.ts";

describe("clientAddress", () => {
  test("believes X-Forwarded-For only from trusted proxies, and only past hops it trusts", () => {
    const local = trustedProxies(["127.0.0.1"]);
    expect(clientAddress("127.0.0.1", "203.0.113.9, 10.1.1.1", local)).toBe("10.1.1.1");
    expect(clientAddress("198.51.100.4", "203.0.113.9", local)).toBe("198.51.100.4");
    expect(clientAddress("127.0.0.1", undefined, local)).toBe("127.0.0.1");
  });

  test("trusted proxies may be networks (a pod network), IPv4, IPv6 and IPv4-mapped", () => {
    const pods = trustedProxies(["10.244.0.0/16", "fd00::/8", "::1"]);
    expect(clientAddress("10.244.3.7", "203.0.113.9", pods)).toBe("203.0.113.9");
    expect(clientAddress("::ffff:10.244.3.7", "203.0.113.9", pods)).toBe("203.0.113.9");
    expect(clientAddress("fd12::5", "203.0.113.9", pods)).toBe("203.0.113.9");
    expect(clientAddress("::1", "203.0.113.9", pods)).toBe("203.0.113.9");
    expect(clientAddress("10.245.0.1", "203.0.113.9", pods)).toBe("10.245.0.1");
    expect(() => trustedProxies(["10.0.0.0/33"])).toThrow(/bad network/);
  });

  test("the rightmost untrusted hop wins: a chain of our proxies is walked, the client's own hops are not", () => {
    const ours = trustedProxies(["10.0.0.0/8", "127.0.0.1"]);
    // client → ingress (10.1.0.5) → internal LB (10.2.0.7) → gateway
    expect(clientAddress("10.2.0.7", "198.51.100.20, 10.1.0.5", ours)).toBe("198.51.100.20");
    // The client wrote "1.1.1.1, 10.9.9.9" itself; the ingress appended what it saw.
    expect(clientAddress("10.2.0.7", "1.1.1.1, 10.9.9.9, 198.51.100.20, 10.1.0.5", ours)).toBe(
      "198.51.100.20",
    );
    // Every hop trusted: the leftmost is the client (a request from inside the cluster).
    expect(clientAddress("127.0.0.1", "10.3.3.3, 10.1.0.5", ours)).toBe("10.3.3.3");
  });

  test("a spoofed header from an untrusted peer is ignored entirely", () => {
    const ours = trustedProxies(["10.0.0.0/8"]);
    expect(clientAddress("198.51.100.20", "10.1.0.5", ours)).toBe("198.51.100.20");
    expect(clientAddress("198.51.100.20", "203.0.113.1, 10.1.0.5", ours)).toBe("198.51.100.20");
    expect(clientAddress("unknown", "203.0.113.1", ours)).toBe("unknown");
    // Nobody trusted (the gateway's default): never believed.
    expect(clientAddress("127.0.0.1", "203.0.113.1", trustedProxies([]))).toBe("127.0.0.1");
  });

  test("IPv6 hops, ports and brackets", () => {
    const ours = trustedProxies(["fd00::/8", "2001:db8:ffff::/48"]);
    expect(clientAddress("fd00::1", "2001:db8::42", ours)).toBe("2001:db8::42");
    expect(clientAddress("fd00::1", "[2001:db8::42]:51000, 2001:db8:ffff::9", ours)).toBe("2001:db8::42");
    expect(clientAddress("fd00::1", "198.51.100.20:4711", ours)).toBe("198.51.100.20");
    expect(clientAddress("FD00:0:0:0:0:0:0:1", "2001:DB8::42", ours)).toBe("2001:DB8::42");
    expect(clientAddress("fe80::1%eth0", "2001:db8::42", trustedProxies(["fe80::/10"]))).toBe("2001:db8::42");
  });

  test("a hop that is no address stops the walk at the proxy that wrote it", () => {
    const ours = trustedProxies(["10.0.0.0/8"]);
    expect(clientAddress("10.0.0.2", "unknown", ours)).toBe("10.0.0.2");
    expect(clientAddress("10.0.0.2", "198.51.100.1, , 10.0.0.3", ours)).toBe("10.0.0.3");
    expect(clientAddress("10.0.0.2", "198.51.100.1, 10.0.0.3, <script>", ours)).toBe("10.0.0.2");
  });
});

describe("trustedProxies", () => {
  test("IPv4 rules match the IPv4-mapped spelling and the other way round", () => {
    expect(trustedProxies(["127.0.0.1"])("::ffff:127.0.0.1")).toBe(true);
    expect(trustedProxies(["::ffff:127.0.0.1"])("127.0.0.1")).toBe(true);
    expect(trustedProxies(["::ffff:10.0.0.0/104"])("10.200.1.1")).toBe(true);
    expect(trustedProxies(["10.0.0.0/8"])("11.0.0.1")).toBe(false);
  });

  test("prefixes that do not end on a byte", () => {
    const t = trustedProxies(["172.16.0.0/12", "2001:db8:8000::/33"]);
    expect(t("172.31.255.255")).toBe(true);
    expect(t("172.32.0.0")).toBe(false);
    expect(t("2001:db8:ffff::1")).toBe(true);
    expect(t("2001:db8:7fff::1")).toBe(false);
  });

  test("bad entries are refused with the variable's name; non-addresses never match", () => {
    for (const bad of ["localhost", "10.0.0.0/8x", "10.0.0/8", "::/129", "1.2.3.4/-1", "1.2.3.4/8/8", ""])
      expect(() => trustedProxies([bad])).toThrow(/TRUSTED_PROXIES: bad network/);
    const t = trustedProxies(["0.0.0.0/0"]);
    expect(t("unknown")).toBe(false);
    expect(t("in-process")).toBe(false);
    expect(t("1.2.3.4")).toBe(true);
  });

  test("parseProxyList splits a comma-separated list and falls back when unset", () => {
    expect(parseProxyList(" 10.0.0.0/8 , ::1,,")).toEqual(["10.0.0.0/8", "::1"]);
    expect(parseProxyList(undefined, ["127.0.0.1"])).toEqual(["127.0.0.1"]);
    expect(parseProxyList("", [])).toEqual([]);
  });
});

describe("parseIp", () => {
  test("valid and invalid spellings", () => {
    for (const ok of [
      "0.0.0.0",
      "255.255.255.255",
      "::",
      "::1",
      "1::",
      "1:2:3:4:5:6:7:8",
      "::ffff:1.2.3.4",
      "1::2:3",
    ])
      expect(parseIp(ok)).toBeDefined();
    for (const bad of [
      "256.0.0.1",
      "01.2.3.4",
      "1.2.3",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      ":1",
      "12345::",
      "g::1",
    ])
      expect(parseIp(bad)).toBeUndefined();
    expect([...(parseIp("::1") as Uint8Array)]).toEqual([...Array(15).fill(0), 1]);
  });
});

describe("clientNetwork", () => {
  test("IPv4 as it is, IPv6 by its /64, mapped addresses as IPv4", () => {
    expect(clientNetwork("198.51.100.7")).toBe("198.51.100.7");
    expect(clientNetwork("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(clientNetwork("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientNetwork("2001:DB8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(clientNetwork("unknown")).toBe("unknown");
  });
});
