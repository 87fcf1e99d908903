// The Kubernetes manifests (deploy/k8s) parse, and every setting they hand a filestore process is one the
// code reads: a renamed or misspelt variable fails here, not silently in production. compose.yaml has its
// own test (compose.test.ts); the manifests' hardening is k8s-hardening.test.ts.
import { describe, expect, test } from "bun:test";
import { get, K8S, k8sManifests, namesTheCodeReads, type Obj } from "./deploy-files.ts";

const known = namesTheCodeReads();

describe("Kubernetes manifests", () => {
  const { files, docs } = k8sManifests();
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
      expect(get(container, "command")).toEqual(["bun", `workers/${component}/main.ts`]);
    }
  });
});
