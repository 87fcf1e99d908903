// compose.yaml read as an operator would trust it (`docker compose config` needs the compose plugin, which
// CI lacks): pinned images, no secret with a default, a scoped S3 key, health checks, no fixed addresses,
// and every setting handed to a filestore process one the code reads.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { get, namesTheCodeReads, type Obj, parseAll, ROOT } from "./deploy-files.ts";

const text = readFileSync(join(ROOT, "compose.yaml"), "utf8");
const compose = parseAll(join(ROOT, "compose.yaml"))[0] as Obj;
const services = compose.services as Record<string, Obj>;
const OURS = ["account", "dav", "download", "file", "gateway", "meta", "transfer", "upload"];
const ours = Object.entries(services).filter(([n]) => OURS.includes(n));
const known = namesTheCodeReads();
/** A compose reference "${body}". */
const ref = (body: string) => `$\{${body}}`;
/** A variable whose value is a credential. */
const SECRET_NAME = /SECRET|PASSWORD|_KEY$|TOKEN|JWK/;
/** Every `${...}` reference in the file: the variable, and what follows its name (":?msg", ":-default"). */
const references = [...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)([^}]*)\}/g)].map((m) => ({
  name: m[1] as string,
  rest: m[2] as string,
}));

describe("compose.yaml", () => {
  test("every filestore service exists, runs its entry, and reads only known variables", () => {
    expect(ours.map(([n]) => n).sort()).toEqual(OURS);
    for (const [name, s] of ours) {
      const env = s.environment as Record<string, unknown>;
      expect(Object.keys(env).filter((n) => !known.has(n))).toEqual([]);
      if (name !== "gateway") expect(s.command).toEqual(["bun", `workers/${name}/main.ts`]);
      else
        expect(s.command).toEqual([
          "deno",
          "run",
          "--allow-net",
          "--allow-env",
          "--allow-read",
          "gateway/deno-main.ts",
        ]);
      expect("DATABASE_URL" in env).toBe(name === "meta");
      expect(s.profiles).toBeUndefined();
      // The gateway holds no secret at all.
      if (name === "gateway") expect(Object.keys(env).filter((n) => SECRET_NAME.test(n))).toEqual([]);
    }
  });

  test("service URLs point at compose services on the port they listen on", () => {
    for (const [, s] of ours) {
      const env = s.environment as Record<string, string>;
      for (const [key, value] of Object.entries(env)) {
        if (!/^(ACCOUNT|META|FILE|UPLOAD|DOWNLOAD|TRANSFER|DAV)_URL$/.test(key)) continue;
        const url = new URL(value);
        const target = services[url.hostname];
        expect(target, `${key}: no service "${url.hostname}"`).toBeDefined();
        expect(String(get(target, "environment", "PORT"))).toBe(url.port);
      }
    }
  });

  test("every image is pinned to a version (or built here), and MinIO is gone", () => {
    for (const [name, s] of Object.entries(services)) {
      const image = s.image as string;
      expect(image, name).toBeString();
      expect(image, name).not.toMatch(/:latest$|^[^:@]+$/);
      if (s.build) expect(image, name).toMatch(/^filestore(-gateway)?:/);
      else expect(image, name).toMatch(/:v?\d+(\.\d+)+(-[a-z0-9.]+)?$|@sha256:[0-9a-f]{64}$/);
    }
    expect(text).not.toMatch(/minio/i);
    // Both images come from the Dockerfile's targets.
    expect(get(services.gateway, "build", "target")).toBe("gateway");
    expect(get(services.meta, "build", "target")).toBe("workers");
  });

  test("no secret has a default: each is required from .env, and no placeholder is left", () => {
    const secrets = references.filter((r) => SECRET_NAME.test(r.name));
    expect(secrets.length).toBeGreaterThan(8);
    for (const r of secrets) expect(`\${${r.name}${r.rest}}`).toMatch(/^\$\{[A-Z0-9_]+:\?.+\}$/);
    expect(text).not.toMatch(/change-?me|dev-only/i);
    // A secret's value is a reference, never a literal.
    for (const [name, s] of Object.entries(services))
      for (const [key, value] of Object.entries((s.environment as Record<string, string>) ?? {}))
        if (SECRET_NAME.test(key)) expect(String(value), `${name}.${key}`).toMatch(/^\$\{[A-Z0-9_]+:\?/);
    // The internal secret's message says how to make one.
    expect(text).toContain(
      ref("INTERNAL_SECRET:?set INTERNAL_SECRET in .env (make one with openssl rand -base64 48)"),
    );
  });

  test("the example .env names every variable compose.yaml reads, with no secret filled in", () => {
    const example = readFileSync(join(ROOT, "deploy/compose.env.example"), "utf8");
    const set = new Map(
      [...example.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    expect([...new Set(references.map((r) => r.name))].filter((n) => !set.has(n))).toEqual([]);
    for (const [name, value] of set) if (SECRET_NAME.test(name)) expect(value, name).toBe("");
  });

  test("the app reaches S3 with its own key, limited to its bucket; the operator key creates the bucket", () => {
    for (const [name, s] of ours) {
      const env = s.environment as Record<string, string>;
      if (!env.S3_ENDPOINT) continue;
      expect(env.S3_ENDPOINT, name).toBe("http://s3:8333");
      expect(env.S3_ACCESS_KEY, name).toStartWith("${S3_ACCESS_KEY:?");
      expect(env.S3_CREATE_BUCKET, name).toBe("false");
      expect(get(s, "depends_on", "s3-init", "condition")).toBe("service_completed_successfully");
    }
    // The identities, with the variables filled in, parse; the app's has no Admin and names its bucket.
    const content = get(compose, "configs", "s3-identities", "content") as string;
    const filled = content.replace(/\$\{([A-Z0-9_]+)[^}]*\}/g, (_, n: string) => `value-of-${n}`);
    const ids = (
      JSON.parse(filled) as { identities: { name: string; credentials: Obj[]; actions: string[] }[] }
    ).identities;
    const app = ids.find((i) => i.credentials.some((c) => c.accessKey === "value-of-S3_ACCESS_KEY"));
    expect(app?.actions.sort()).toEqual(["List:filestore", "Read:filestore", "Write:filestore"]);
    expect(ids.every((i) => i.credentials.length > 0)).toBe(true); // no anonymous identity
    expect(get(services.s3, "command")).toContain("-s3.config=/etc/seaweedfs/s3.json");
    expect(get(services.s3, "configs")).toEqual([
      { source: "s3-identities", target: "/etc/seaweedfs/s3.json" },
    ]);
    expect(services["s3-init"]?.restart).toBe("no");
    expect(JSON.stringify(services["s3-init"]?.environment)).toContain("S3_ADMIN_ACCESS_KEY");
  });

  test("every long-running service has a health check, and what waits on one waits on a real one", () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.restart === "no") continue;
      expect((get(s, "healthcheck", "test") as string[] | undefined)?.length ?? 0, name).toBeGreaterThan(1);
    }
    for (const [name, s] of Object.entries(services))
      for (const [dep, cond] of Object.entries((s.depends_on as Record<string, Obj>) ?? {})) {
        expect(services[dep], `${name} waits on ${dep}`).toBeDefined();
        if (cond.condition === "service_healthy")
          expect(get(services[dep], "healthcheck", "test")).toBeDefined();
        else expect(cond.condition).toBe("service_completed_successfully");
      }
    // The workers' check is the image's own (no curl there).
    expect(get(services.meta, "healthcheck", "test")).toEqual(["CMD", "bun", "workers/healthcheck.ts"]);
  });

  test("no fixed address or subnet: the gateway scales, and the trusted ranges are the operator's", () => {
    expect(text).not.toMatch(/ipv4_address|ipv6_address|subnet:|gateway:\s*\d/);
    expect(get(compose, "networks", "backend", "ipam")).toBeUndefined();
    const workerTrust = get(services.meta, "environment", "TRUSTED_PROXIES") as string;
    expect(workerTrust).toStartWith("${WORKER_TRUSTED_PROXIES:-");
    // The default names networks only (and loopback), never one container's address.
    const entries = workerTrust.slice("${WORKER_TRUSTED_PROXIES:-".length, -1).split(",");
    for (const e of entries) expect(e.includes("/") || e === "127.0.0.1" || e === "::1", e).toBe(true);
    expect(get(services.gateway, "environment", "TRUSTED_PROXIES")).toBe(ref("GATEWAY_TRUSTED_PROXIES:-"));
  });

  test("filestore containers run read-only, without capabilities or privilege escalation", () => {
    for (const [name, s] of ours) {
      expect(s.read_only, name).toBe(true);
      expect(s.tmpfs, name).toEqual(["/tmp"]);
      expect(s.cap_drop, name).toEqual(["ALL"]);
      expect(s.security_opt, name).toContain("no-new-privileges:true");
    }
  });
});
