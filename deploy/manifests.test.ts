// The Kubernetes manifests (deploy/k8s) as an operator would trust them: they parse, every setting they
// hand a filestore process is one the code reads (a renamed or misspelt variable fails here, not silently
// in production), every container runs with least privilege, drains have budgets, the Ingress suits large
// uploads, NetworkPolicies allow exactly the calls the code makes, and `kubectl kustomize` renders it all.
// compose.yaml has its own test (compose.test.ts).
import { describe, expect, test } from "bun:test";
import { get, K8S, k8sManifests, namesTheCodeReads, type Obj } from "./deploy-files.ts";
import { admits, canConnect, matches, type Pod, policiesOf } from "./network-policy.ts";

const known = namesTheCodeReads();

const { files, docs } = k8sManifests();
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const name = (d: Obj) => get(d, "metadata", "name") as string;
const workloads = docs.filter((d) => ["Deployment", "StatefulSet", "Job"].includes(d.kind as string));
const podSpec = (w: Obj) => get(w, "spec", "template", "spec") as Obj;
const containersOf = (w: Obj) => [
  ...((podSpec(w).initContainers as Obj[] | undefined) ?? []),
  ...(podSpec(w).containers as Obj[]),
];
const ours = byKind("Deployment").filter(
  (d) => get(d, "metadata", "labels", "app.kubernetes.io/name") === "filestore",
);
const NS = "filestore";

describe("Kubernetes manifests", () => {
  const config = byKind("ConfigMap").find((d) => get(d, "metadata", "name") === "filestore-config");
  const secret = byKind("Secret").find((d) => get(d, "metadata", "name") === "filestore-secrets");

  test("kustomization lists every manifest, and each parses into objects with a kind", () => {
    const onDisk = [...new Bun.Glob("*.yaml").scanSync(K8S)].filter((f) => f !== "kustomization.yaml");
    expect([...files].sort()).toEqual(onDisk.sort());
    for (const d of docs) expect(typeof d.kind).toBe("string");
    expect(ours.map((d) => get(d, "metadata", "name")).sort()).toEqual(
      ["account", "dav", "download", "file", "gateway", "meta", "transfer", "upload"].sort(),
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

describe("every workload", () => {
  test("runs as a non-root user with the runtime's default seccomp profile", () => {
    expect(workloads.length).toBeGreaterThanOrEqual(11);
    for (const w of workloads) {
      const sc = podSpec(w).securityContext as Obj;
      expect(sc?.runAsNonRoot, name(w)).toBe(true);
      expect(Number(sc?.runAsUser), name(w)).toBeGreaterThan(0);
      expect(get(sc, "seccompProfile", "type"), name(w)).toBe("RuntimeDefault");
    }
  });

  test("each container: read-only root, no privilege escalation, no capabilities, requests and limits", () => {
    for (const w of workloads)
      for (const c of containersOf(w)) {
        const where = `${name(w)}/${c.name}`;
        expect(get(c, "securityContext", "allowPrivilegeEscalation"), where).toBe(false);
        expect(get(c, "securityContext", "readOnlyRootFilesystem"), where).toBe(true);
        expect(get(c, "securityContext", "capabilities", "drop"), where).toEqual(["ALL"]);
        expect(get(c, "securityContext", "privileged"), where).toBeUndefined();
        for (const kind of ["requests", "limits"])
          for (const r of ["cpu", "memory"])
            expect(get(c, "resources", kind, r), `${where} ${kind}.${r}`).toBeDefined();
      }
  });

  test("filestore containers write only to emptyDir /tmp and /data (the image stays read-only)", () => {
    for (const d of ours) {
      const volumes = new Map(((podSpec(d).volumes as Obj[]) ?? []).map((v) => [v.name as string, v]));
      for (const c of podSpec(d).containers as Obj[]) {
        const mounts = (c.volumeMounts as Obj[]).map((m) => [
          m.mountPath,
          get(volumes.get(m.name as string), "emptyDir"),
        ]);
        expect(mounts.find(([path]) => path === "/tmp")?.[1], name(d)).toEqual({});
        for (const [, emptyDir] of mounts) expect(emptyDir, name(d)).toBeDefined();
      }
    }
  });

  test("every image is pinned: a version tag on third-party images, ours set by kustomization.yaml", () => {
    const kustomized = ["filestore", "filestore-gateway"];
    for (const w of workloads)
      for (const c of containersOf(w)) {
        const image = c.image as string;
        if (kustomized.includes(image)) continue;
        expect(image).toMatch(/:v?\d+(\.\d+)+(-[a-z0-9.]+)?$|@sha256:[0-9a-f]{64}$/);
      }
    expect(JSON.stringify(docs)).not.toMatch(/minio/i);
  });

  test("filestore pods say where Prometheus scrapes /metrics: their own port", () => {
    for (const d of ours) {
      const annotations = get(d, "spec", "template", "metadata", "annotations") as Record<string, string>;
      // The port named "metrics" (the gateway's METRICS_PORT), else the pod's one port.
      const ports = get((podSpec(d).containers as Obj[])[0], "ports") as Obj[];
      const port = (ports.find((p) => p.name === "metrics") ?? ports[0])?.containerPort;
      expect(annotations["prometheus.io/scrape"], name(d)).toBe("true");
      expect(annotations["prometheus.io/port"], name(d)).toBe(String(port));
      expect(annotations["prometheus.io/path"], name(d)).toBe("/metrics");
    }
  });
});

test("each filestore Deployment has a PodDisruptionBudget; with two replicas or more, one always stays", () => {
  const pdbs = byKind("PodDisruptionBudget");
  for (const d of ours) {
    const labels = get(d, "spec", "template", "metadata", "labels") as Record<string, string>;
    const mine = pdbs.filter((p) => matches(get(p, "spec", "selector") as Obj, labels));
    expect(mine.length, name(d)).toBe(1);
    const spec = (mine[0] as Obj).spec as Obj;
    const replicas = get(d, "spec", "replicas") as number;
    if (replicas >= 2)
      expect(Number(spec.minAvailable ?? 0) >= 1 || Number(spec.maxUnavailable) < replicas, name(d)).toBe(
        true,
      );
  }
});

test("the Ingress sends everything to the gateway, with no body limit, no buffering and long timeouts", () => {
  const [ingress] = byKind("Ingress") as [Obj];
  const a = get(ingress, "metadata", "annotations") as Record<string, string>;
  expect(a["nginx.ingress.kubernetes.io/proxy-body-size"]).toBe("0");
  expect(a["nginx.ingress.kubernetes.io/proxy-request-buffering"]).toBe("off");
  expect(a["nginx.ingress.kubernetes.io/proxy-buffering"]).toBe("off");
  for (const t of ["read", "send"])
    expect(Number(a[`nginx.ingress.kubernetes.io/proxy-${t}-timeout`])).toBeGreaterThanOrEqual(600);
  const backend = get(ingress, "spec", "rules", "0", "http", "paths", "0", "backend", "service") as Obj;
  expect(backend).toEqual({ name: "gateway", port: { name: "http" } });
  expect(get(ingress, "spec", "tls", "0", "secretName")).toBeString();
  const service = byKind("Service").find((s) => name(s) === "gateway");
  expect(get(service, "spec", "ports", "0", "name")).toBe("http");
});

describe("NetworkPolicies", () => {
  const policies = policiesOf(docs, NS);
  const nsLabels = (ns: string) => ({ "kubernetes.io/metadata.name": ns });
  const pods = new Map<string, Pod>();
  for (const w of workloads) {
    const labels = get(w, "spec", "template", "metadata", "labels") as Record<string, string>;
    const key = labels["app.kubernetes.io/component"] ?? labels["app.kubernetes.io/name"] ?? name(w);
    pods.set(key, { name: key, namespace: NS, namespaceLabels: nsLabels(NS), labels });
  }
  const pod = (key: string) => pods.get(key) as Pod;
  const outside: Pod = {
    name: "ingress-nginx",
    namespace: "ingress-nginx",
    namespaceLabels: nsLabels("ingress-nginx"),
    labels: { "app.kubernetes.io/name": "ingress-nginx" },
  };
  const stranger: Pod = {
    name: "stranger",
    namespace: NS,
    namespaceLabels: nsLabels(NS),
    labels: { app: "debug" },
  };
  const dns: Pod = {
    name: "dns",
    namespace: "kube-system",
    namespaceLabels: nsLabels("kube-system"),
    labels: { "k8s-app": "kube-dns" },
  };
  const prometheus: Pod = {
    name: "prometheus",
    namespace: "monitoring",
    namespaceLabels: nsLabels("monitoring"),
    labels: {},
  };
  const PORT: Record<string, number> = {
    gateway: 8080,
    account: 9101,
    meta: 9102,
    file: 9103,
    upload: 28080,
    download: 38080,
    transfer: 9106,
    dav: 9107,
    mariadb: 3306,
    redis: 6379,
    seaweedfs: 8333,
  };
  const WORKERS = ["account", "meta", "file", "upload", "download", "transfer", "dav"];
  const can = (from: Pod | string, to: string) =>
    canConnect(policies, typeof from === "string" ? pod(from) : from, pod(to), PORT[to] as number);

  test("everything is denied unless allowed", () => {
    const deny = policies.find((p) => Object.keys(p.podSelector).length === 0 && !p.ingress && !p.egress);
    expect(deny?.policyTypes.sort()).toEqual(["Egress", "Ingress"]);
    expect([...pods.keys()].sort()).toEqual(
      [...WORKERS, "gateway", "mariadb", "redis", "s3-init", "seaweedfs"].sort(),
    );
  });

  test("only the gateway is reachable from outside the namespace", () => {
    expect(can(outside, "gateway")).toBe(true);
    for (const to of [...WORKERS, "mariadb", "redis", "seaweedfs"]) {
      expect(can(outside, to), `outside -> ${to}`).toBe(false);
      expect(can(stranger, to), `stranger -> ${to}`).toBe(false);
    }
  });

  test("the calls the code makes are allowed", () => {
    for (const to of ["account", "file", "upload", "download", "transfer", "dav"])
      expect(can("gateway", to), `gateway -> ${to}`).toBe(true);
    for (const from of ["account", "file", "upload", "download", "transfer", "dav"])
      expect(can(from, "meta"), `${from} -> meta`).toBe(true);
    // WebDAV is a client of the tree and the data planes, like the gateway.
    for (const to of ["account", "file", "upload", "download"])
      expect(can("dav", to), `dav -> ${to}`).toBe(true);
    // fsck: AdminService (account) passes CheckIntegrity on to the file service.
    expect(can("account", "file"), "account -> file").toBe(true);
    for (const from of ["meta", "file", "upload", "download", "transfer", "dav"])
      expect(can(from, "account"), `${from} -> account (JWKS)`).toBe(true);
    expect(can("meta", "mariadb")).toBe(true);
    for (const from of ["account", "transfer"]) expect(can(from, "redis"), `${from} -> redis`).toBe(true);
    for (const from of ["file", "upload", "download", "transfer", "s3-init"])
      expect(can(from, "seaweedfs"), `${from} -> s3`).toBe(true);
    for (const from of pods.values())
      expect(canConnect(policies, from, dns, 53), `${from.name} -> dns`).toBe(true);
    // SeaweedFS's parts reach one another at the pod's address (master 9333, filer 8888, volume 8080).
    for (const port of [9333, 8888, 8080])
      expect(canConnect(policies, pod("seaweedfs"), pod("seaweedfs"), port), `s3 -> s3:${port}`).toBe(true);
    for (const to of WORKERS) expect(can(prometheus, to), `prometheus -> ${to}`).toBe(true);
    expect(canConnect(policies, prometheus, pod("gateway"), 9464), "prometheus -> gateway metrics").toBe(
      true,
    );
    expect(canConnect(policies, stranger, pod("gateway"), 9464), "stranger -> gateway metrics").toBe(false);
    expect(canConnect(policies, outside, pod("gateway"), 9464), "outside -> gateway metrics").toBe(false);
  });

  test("only meta reaches the database; the gateway reaches no worker it does not call, nor any store", () => {
    for (const from of [...pods.keys()].filter((k) => k !== "meta"))
      expect(can(from, "mariadb"), `${from} -> mariadb`).toBe(false);
    for (const to of ["meta", "mariadb", "redis", "seaweedfs"])
      expect(can("gateway", to), `gateway -> ${to}`).toBe(false);
    for (const from of ["meta", "file", "upload", "download", "gateway"])
      expect(can(from, "redis"), `${from} -> redis`).toBe(false);
    for (const from of ["meta", "account", "gateway"])
      expect(can(from, "seaweedfs"), `${from} -> s3`).toBe(false);
    for (const from of ["mariadb", "redis", "seaweedfs"])
      expect(can(from, "meta"), `${from} -> meta`).toBe(false);
    // By the stores' own ingress rules too, whatever a pod's egress allows.
    const admitted = (to: string) =>
      [...pods.keys(), "stranger"].filter((from) =>
        admits(policies, pod(to), pods.get(from) ?? stranger, PORT[to] as number),
      );
    expect(admitted("mariadb")).toEqual(["meta"]);
    expect(admitted("redis").sort()).toEqual(["account", "transfer"]);
    expect(admitted("meta").sort()).toEqual(["account", "dav", "download", "file", "transfer", "upload"]);
    expect(admitted("upload").sort()).toEqual(["dav", "gateway"]);
    expect(admitted("dav")).toEqual(["gateway"]);
    // Workers call meta and account, never one another's data plane.
    expect(can("upload", "download")).toBe(false);
    expect(can("meta", "file")).toBe(false);
  });
});

const kubectl = Bun.which("kubectl");
if (!kubectl)
  console.warn(
    "kubectl not found: `kubectl kustomize deploy/k8s` is not checked (apt-get install kubernetes-client)",
  );
test.skipIf(!kubectl)(
  "`kubectl kustomize deploy/k8s` renders every object into the filestore namespace",
  () => {
    const run = Bun.spawnSync([kubectl as string, "kustomize", K8S], { stderr: "pipe" });
    expect(run.stderr.toString()).toBe("");
    expect(run.exitCode).toBe(0);
    const rendered = (Bun.YAML.parse(run.stdout.toString()) as Obj[]).filter(Boolean);
    expect(rendered.length).toBe(docs.length);
    for (const d of rendered)
      if (d.kind !== "Namespace") expect(get(d, "metadata", "namespace"), `${d.kind}/${name(d)}`).toBe(NS);
    const images = rendered.flatMap((d) =>
      d.kind === "Deployment" ? containersOf(d).map((c) => c.image) : [],
    );
    expect(new Set(images)).toEqual(new Set(["filestore:dev", "filestore-gateway:dev"]));
  },
);
