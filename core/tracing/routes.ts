// Route names of spans and access-log lines (templates: core/route-templates.ts): an RPC path as it is
// (it names a method, never a user's data), anything unknown "other".
import { dataPlaneRoute, RPC_PATH } from "../route-templates.ts";

/** "/pkg.Service/Method" and fixed paths as they are, data-plane paths as templates, anything else "other". */
export function routeOf(path: string): string {
  if (RPC_PATH.test(path)) return path;
  return dataPlaneRoute(path) ?? "other";
}
