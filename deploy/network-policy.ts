// A small NetworkPolicy evaluator for the manifests' tests: may pod A open a TCP connection to pod B on a
// port, under the policies given? Follows the Kubernetes semantics the manifests use: a pod selected by
// no policy of a direction is open in that direction; a selected one allows only what some rule of a
// selecting policy allows (peers by podSelector and namespaceSelector; ipBlock peers match no pod).
import type { Obj } from "./deploy-files.ts";

export interface Pod {
  name: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: unknown;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { protocol?: string; port?: number | string }[];
}
interface Policy {
  namespace: string;
  podSelector: Selector;
  policyTypes: string[];
  ingress?: Rule[];
  egress?: Rule[];
}

export function matches(sel: Selector | undefined, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key] as string;
    const ok =
      e.operator === "In"
        ? has && (e.values ?? []).includes(value)
        : e.operator === "NotIn"
          ? !has || !(e.values ?? []).includes(value)
          : e.operator === "Exists"
            ? has
            : e.operator === "DoesNotExist"
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/** The policies among `docs`, each in `namespace` (where kustomize puts them). */
export function policiesOf(docs: Obj[], namespace: string): Policy[] {
  return docs
    .filter((d) => d.kind === "NetworkPolicy")
    .map((d) => ({ namespace, ...(d.spec as Omit<Policy, "namespace">) }));
}

/** `peer` names `pod`, for a policy in `policyNs`. */
function peerMatches(peer: Peer, pod: Pod, policyNs: string): boolean {
  if (peer.ipBlock) return false;
  const nsOk = peer.namespaceSelector
    ? matches(peer.namespaceSelector, pod.namespaceLabels)
    : pod.namespace === policyNs;
  return nsOk && matches(peer.podSelector, pod.labels);
}

function portMatches(rule: Rule, port: number): boolean {
  return (
    !rule.ports ||
    rule.ports.some((p) => (p.protocol ?? "TCP") === "TCP" && (p.port === undefined || p.port === port))
  );
}

function allows(
  policies: Policy[],
  pod: Pod,
  other: Pod,
  port: number,
  direction: "Ingress" | "Egress",
): boolean {
  const selecting = policies.filter(
    (p) =>
      p.namespace === pod.namespace &&
      p.policyTypes.includes(direction) &&
      matches(p.podSelector, pod.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    ((direction === "Ingress" ? p.ingress : p.egress) ?? []).some((rule) => {
      const peers = direction === "Ingress" ? rule.from : rule.to;
      return (
        portMatches(rule, port) && (!peers || peers.some((peer) => peerMatches(peer, other, p.namespace)))
      );
    }),
  );
}

/** `to` admits `from` on TCP `port` (its ingress rules alone: whatever `from`'s own egress says). */
export function admits(policies: Policy[], to: Pod, from: Pod, port: number): boolean {
  return allows(policies, to, from, port, "Ingress");
}

/** `from` may connect to `to` on TCP `port`: its egress and the target's ingress both allow it. */
export function canConnect(policies: Policy[], from: Pod, to: Pod, port: number): boolean {
  return allows(policies, from, to, port, "Egress") && allows(policies, to, from, port, "Ingress");
}
