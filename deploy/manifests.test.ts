// The deployment files (compose.yaml, deploy/k8s/*.yaml) parse, and every setting they hand a filestore
// process is one the code reads: a renamed or misspelt variable fails here, not silently in production.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const K8S = join(ROOT, "deploy/k8s");
type Obj = Record<string, unknown>;

const parseAll = (path: string): Obj[] => {
  const parsed = Bun.YAML.parse(readFileSync(path, "utf8")) as unknown;
  return (Array.isArray(parsed) ? parsed : [parsed]) as Obj[];
};
const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Obj)[k] : undefined), o);

/** Every environment variable name the code reads (workers and gateway, tests excluded). */
function namesTheCodeReads(): Set<string> {
  const names = new Set<string>();
  const dynamicUrls = new Set<string>();
  for (const file of new Bun.Glob("{workers,gateway}/**/*.ts").scanSync(ROOT)) {
    if (file.endsWith(".test.ts")) continue;
    const src = readFileSync(join(ROOT, file), "utf8");
    for (const m of src.matchAll(/\benv(?:\.|\[["'`])([A-Z][A-Z0-9_]*)\b/g)) names.add(m[1] as string);
    for (const m of src.matchAll(/\(env, "([A-Z][A-Z0-9_]*)"/g)) names.add(m[1] as string);
    // `${name.toUpperCase()}_URL`: one URL per service.
    if (/toUpperCase\(\)\}_URL`/.test(src)) dynamicUrls.add(file);
  }
  if (dynamicUrls.size > 0)
    for (const svc of ["ACCOUNT", "META", "FILE", "UPLOAD", "DOWNLOAD", "TRANSFER"]) names.add(`${svc}_URL`);
  // Read by the runtimes themselves.
  names.add("DENO_NO_UPDATE_CHECK");
  return names;
}

const known = namesTheCodeReads();

describe("Kubernetes manifests", () => {
  const kustomization = parseAll(join(K8S, "kustomization.yaml"))[0] as Obj;
  const files = kustomization.resources as string[];
  const docs = files.flatMap((f) => parseAll(join(K8S, f)));
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const config = byKind("ConfigMap").find((d) => get(d, "metadata", "name") === "filestore-config");
  const secret = byKind("Secret").find((d) => get(d, "metadata", "name") === "filestore-secrets");
  const ours = byKind("Deployment").filter((d) => get(d, "metadata", "labels", "app.kubernetes.io/name"));

  test("kustomization lists every manifest, and each parses into objects with a kind", () => {
    const onDisk = [...new Bun.Glob("*.yaml").scanSync(K8S)].filter((f) => f !== "kustomization.yaml");
    expect([...files].sort()).toEqual(onDisk.sort());
    for (const d of docs) expect(typeof d.kind).toBe("string");
    expect(ours.map((d) => get(d, "metadata", "name")).sort()).toEqual(
      ["account", "download", "file", "gateway", "meta", "transfer", "upload"].sort(),
    );
  });

  test("every variable handed to a filestore container is one the code reads", () => {
    const handed = new Set<string>(Object.keys((config?.data as Obj) ?? {}));
    for (const d of ours)
      for (const c of get(d, "spec", "template", "spec", "containers") as Obj[])
        for (const e of (c.env as Obj[] | undefined) ?? []) handed.add(e.name as string);
    expect(handed.size).toBeGreaterThan(10);
    expect([...handed].filter((n) => !known.has(n))).toEqual([]);
    // Secret keys are only ever referenced by name; each must exist in the example Secret.
    const secretKeys = Object.keys((secret?.stringData as Obj) ?? {});
    for (const d of ours)
      for (const c of get(d, "spec", "template", "spec", "containers") as Obj[])
        for (const e of (c.env as Obj[] | undefined) ?? []) {
          const ref = get(e, "valueFrom", "secretKeyRef", "key");
          if (ref) expect(secretKeys).toContain(ref as string);
        }
  });

  test("least privilege: only meta gets DATABASE_URL; the gateway gets no secret at all", () => {
    for (const d of ours) {
      const name = get(d, "metadata", "name");
      const env = (get(d, "spec", "template", "spec", "containers") as Obj[]).flatMap(
        (c) => (c.env as Obj[] | undefined) ?? [],
      );
      const names = env.map((e) => e.name);
      expect(names.includes("DATABASE_URL")).toBe(name === "meta");
      if (name === "gateway") expect(env.some((e) => get(e, "valueFrom", "secretKeyRef"))).toBe(false);
    }
  });

  test("each service URL names a Service that selects that worker, on its container port, with probes", () => {
    const services = byKind("Service");
    for (const [key, value] of Object.entries((config?.data as Record<string, string>) ?? {})) {
      if (!/^(ACCOUNT|META|FILE|UPLOAD|DOWNLOAD|TRANSFER)_URL$/.test(key)) continue;
      const url = new URL(value);
      const svc = services.find((s) => get(s, "metadata", "name") === url.hostname);
      expect(svc, `${key}: no Service "${url.hostname}"`).toBeDefined();
      // Headless, so that its name resolves to every pod and callers balance (see workers/lib/clients.ts).
      expect(get(svc, "spec", "clusterIP")).toBe("None");
      const component = get(svc, "spec", "selector", "app.kubernetes.io/component");
      const deployment = ours.find((d) => get(d, "metadata", "name") === component) as Obj;
      const container = (get(deployment, "spec", "template", "spec", "containers") as Obj[])[0] as Obj;
      const ports = (container.ports as Obj[]).map((p) => String(p.containerPort));
      expect(ports).toContain(url.port);
      expect((container.env as Obj[]).find((e) => e.name === "PORT")?.value).toBe(url.port);
      expect(get(container, "readinessProbe", "grpc", "port")).toBe(Number(url.port));
      expect(get(container, "command")).toEqual(["node_modules/.bin/bun", `workers/${component}/main.ts`]);
    }
  });
});

describe("compose.yaml", () => {
  const compose = parseAll(join(ROOT, "compose.yaml"))[0] as Obj;
  const services = compose.services as Record<string, Obj>;
  const ours = Object.entries(services).filter(([, s]) => s.image === "filestore:dev");

  test("every filestore service exists, runs its entry, and reads only known variables", () => {
    expect(ours.map(([n]) => n).sort()).toEqual(
      ["account", "download", "file", "gateway", "meta", "transfer", "upload"].sort(),
    );
    for (const [name, s] of ours) {
      const env = s.environment as Record<string, unknown>;
      expect(Object.keys(env).filter((n) => !known.has(n))).toEqual([]);
      if (name !== "gateway") expect(s.command).toEqual(["node_modules/.bin/bun", `workers/${name}/main.ts`]);
      expect("DATABASE_URL" in env).toBe(name === "meta");
      expect(s.profiles).toBeUndefined();
    }
  });

  test("service URLs point at compose services on the port they listen on", () => {
    for (const [, s] of ours) {
      const env = s.environment as Record<string, string>;
      for (const [key, value] of Object.entries(env)) {
        if (!/^(ACCOUNT|META|FILE|UPLOAD|DOWNLOAD|TRANSFER)_URL$/.test(key)) continue;
        const url = new URL(value);
        const target = services[url.hostname];
        expect(target, `${key}: no service "${url.hostname}"`).toBeDefined();
        expect(String(get(target, "environment", "PORT"))).toBe(url.port);
      }
    }
  });
});
