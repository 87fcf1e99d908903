// Route labels of the HTTP metrics (templates: core/route-templates.ts). A path that matches no known
// template is "other".
import { dataPlaneRoute, RPC_PATH } from "../route-templates.ts";

/**
 * The template of `path`, or undefined when it is none of the data-plane, RPC or fixed paths. Callers
 * that know their own routes (the gateway's router) try theirs next, then use "other".
 */
export function routeTemplate(path: string): string | undefined {
  // RPC paths of the gateway's pass-through are counted by the workers' RPC metrics; here one route.
  return dataPlaneRoute(path) ?? (RPC_PATH.test(path) ? "/{rpc}" : undefined);
}

export const OTHER_ROUTE = "other";
