// What the deployment tests share: YAML documents as plain objects, a path into them, and the names of
// every environment variable the code reads.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");
export type Obj = Record<string, unknown>;

/** Every document of a YAML file (Bun's own parser: no `yaml` package is installed). */
export const parseAll = (path: string): Obj[] => {
  const parsed = Bun.YAML.parse(readFileSync(path, "utf8")) as unknown;
  return (Array.isArray(parsed) ? parsed : [parsed]) as Obj[];
};

export const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Obj)[k] : undefined), o);

/** Every environment variable name the code reads (workers and gateway, tests excluded). */
export function namesTheCodeReads(): Set<string> {
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
    for (const svc of ["ACCOUNT", "META", "FILE", "UPLOAD", "DOWNLOAD", "TRANSFER", "DAV"])
      names.add(`${svc}_URL`);
  // Read by the runtimes themselves.
  names.add("DENO_NO_UPDATE_CHECK");
  names.add("DENO_DIR");
  return names;
}

export const K8S = join(ROOT, "deploy/k8s");

/** The manifests kustomization.yaml lists, in its order, and every object in them. */
export function k8sManifests(): { files: string[]; docs: Obj[] } {
  const kustomization = parseAll(join(K8S, "kustomization.yaml"))[0] as Obj;
  const files = kustomization.resources as string[];
  return { files, docs: files.flatMap((f) => parseAll(join(K8S, f))) };
}
