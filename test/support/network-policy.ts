/**
 * A small NetworkPolicy (networking.k8s.io/v1) evaluator for tests: given every policy of the cluster, may a source
 * reach a destination on a port? It implements the API's documented semantics
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the field docs of
 * kubernetes/kubernetes staging/src/k8s.io/api/networking/v1/types.go):
 *
 * - A pod selected by any policy whose `policyTypes` include Ingress (Egress) is isolated for ingress (egress); a pod
 *   no such policy selects allows everything in that direction. `policyTypes` defaults to Ingress, plus Egress when
 *   the policy has egress rules.
 * - An isolated pod admits a connection when ANY rule of ANY policy selecting it allows it (policies are additive).
 * - A rule allows when a peer matches (no `from`/`to`, or an empty list: every peer) AND a port matches (no `ports`:
 *   every port). A port entry matches protocol (default TCP) and port (number, or a named container port of the
 *   destination pod), up to `endPort` when set.
 * - A peer: `podSelector` alone = pods of the policy's own namespace; `namespaceSelector` alone = every pod of the
 *   matching namespaces; both in ONE peer = pods matching the pod selector inside matching namespaces (AND); `ipBlock`
 *   = addresses inside `cidr` but not inside any `except`. Selectors: `matchLabels` and `matchExpressions` (In, NotIn,
 *   Exists, DoesNotExist), an empty selector matches everything.
 * - A connection from pod A to pod B needs both A's egress and B's ingress to allow it. Host-network endpoints
 *   (the kubelet, node-exporter, the API server) are modelled by address only; NetworkPolicies never select them.
 *
 * Not modelled: the node-local exception (traffic from the pod's own node, e.g. kubelet probes, is always allowed),
 * Service translation (give the destination pod, as CNIs evaluate after DNAT), and implementation-defined corners
 * (ipBlock matching pod addresses).
 */

import * as ipaddr from 'ipaddr.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A label selector as the API writes it. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: readonly string[] }[];
}

/** One end of a connection: a pod (namespace and labels), or an address outside the pod network, or both. */
export interface Endpoint {
  /** Namespace of the pod. Omit for addresses outside the pod network (the API server, the internet). */
  readonly namespace?: string;
  /** Pod labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Labels of the pod's namespace. @default { "kubernetes.io/metadata.name": namespace } */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  /** Address of the endpoint (matched by ipBlock peers). */
  readonly ip?: string;
  /** Named container ports of the pod (for policies that name ports). */
  readonly namedPorts?: Readonly<Record<string, number>>;
}

/** The decision, with which policy admitted or why not, for readable test failures. */
export interface Decision {
  readonly allowed: boolean;
  readonly egress: string;
  readonly ingress: string;
}

const isPod = (e: Endpoint): e is Endpoint & { namespace: string } => e.namespace !== undefined;
const nsLabels = (e: Endpoint & { namespace: string }) => e.namespaceLabels ?? { 'kubernetes.io/metadata.name': e.namespace };

/** Whether a label selector matches labels. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    const ok =
      e.operator === 'In'
        ? has && (e.values ?? []).includes(value!)
        : e.operator === 'NotIn'
          ? !has || !(e.values ?? []).includes(value!)
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

function inCidr(ip: string, cidr: string): boolean {
  const addr = ipaddr.parse(ip);
  const range = ipaddr.parseCIDR(cidr);
  return addr.kind() === range[0].kind() && addr.match(range);
}

/** Whether a peer of a policy in `policyNamespace` matches an endpoint. */
export function peerMatches(peer: Json, policyNamespace: string, e: Endpoint): boolean {
  if (peer.ipBlock !== undefined) {
    if (e.ip === undefined) return false;
    const b = peer.ipBlock as { cidr: string; except?: string[] };
    return inCidr(e.ip, b.cidr) && !(b.except ?? []).some((x) => inCidr(e.ip!, x));
  }
  if (!isPod(e)) return false;
  const podOk = selectorMatches(peer.podSelector as LabelSelector | undefined, e.labels ?? {});
  if (peer.namespaceSelector === undefined) return e.namespace === policyNamespace && podOk;
  return selectorMatches(peer.namespaceSelector as LabelSelector, nsLabels(e)) && podOk;
}

function portMatches(ports: Json[] | undefined, port: number, protocol: string, dst: Endpoint): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const n = typeof p.port === 'number' ? p.port : dst.namedPorts?.[p.port as string];
    if (n === undefined) return false;
    return p.endPort !== undefined ? port >= n && port <= (p.endPort as number) : port === n;
  });
}

function policyTypes(spec: Json): string[] {
  if (Array.isArray(spec.policyTypes)) return spec.policyTypes as string[];
  return ['Ingress', ...(spec.egress !== undefined ? ['Egress'] : [])];
}

function selecting(policies: readonly Json[], pod: Endpoint, type: 'Ingress' | 'Egress'): Json[] {
  if (!isPod(pod)) return [];
  return policies.filter(
    (p) =>
      p.kind === 'NetworkPolicy' &&
      p.metadata?.namespace === pod.namespace &&
      policyTypes(p.spec ?? {}).includes(type) &&
      selectorMatches((p.spec?.podSelector ?? {}) as LabelSelector, pod.labels ?? {}),
  );
}

function direction(
  policies: readonly Json[],
  self: Endpoint,
  other: Endpoint,
  type: 'Ingress' | 'Egress',
  port: number,
  protocol: string,
  dst: Endpoint,
): string | undefined {
  const selected = selecting(policies, self, type);
  if (selected.length === 0) return 'not isolated';
  for (const p of selected) {
    const rules = ((type === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []) as Json[];
    for (const r of rules) {
      const peers = (type === 'Ingress' ? r.from : r.to) as Json[] | undefined;
      const peerOk = peers === undefined || peers.length === 0 || peers.some((peer) => peerMatches(peer, p.metadata.namespace as string, other));
      if (peerOk && portMatches(r.ports as Json[] | undefined, port, protocol, dst)) return `allowed by ${p.metadata.namespace}/${p.metadata.name}`;
    }
  }
  return undefined;
}

/**
 * Whether `src` may open a connection to `dst` on `port`: `src`'s egress policies and `dst`'s ingress policies must
 * both allow it. Pass every NetworkPolicy object of the cluster (other kinds are ignored).
 */
export function evaluate(
  policies: readonly unknown[],
  src: Endpoint,
  dst: Endpoint,
  port: number,
  protocol: 'TCP' | 'UDP' | 'SCTP' = 'TCP',
): Decision {
  const all = policies as Json[];
  const egress = direction(all, src, dst, 'Egress', port, protocol, dst);
  const ingress = direction(all, dst, src, 'Ingress', port, protocol, dst);
  return { allowed: egress !== undefined && ingress !== undefined, egress: egress ?? 'denied', ingress: ingress ?? 'denied' };
}

/** Shorthand for {@link evaluate}`(...).allowed`. */
export function admitted(
  policies: readonly unknown[],
  src: Endpoint,
  dst: Endpoint,
  port: number,
  protocol: 'TCP' | 'UDP' | 'SCTP' = 'TCP',
): boolean {
  return evaluate(policies, src, dst, port, protocol).allowed;
}
