import { k8s } from 'cdk8s-plus-27';
import * as ipaddr from 'ipaddr.js';

/**
 * The egress rule set of every platform pod that leaves the cluster (load-test runners, the operator's initializer,
 * the in-cluster runner-image build), in one place:
 *
 * - DNS only to the cluster DNS pods ({@link dnsEgressRule}), never to "any address on port 53".
 * - IP blocks ({@link ipBlockPeers}) never include link-local addresses (169.254.0.0/16, fe80::/10: the cloud metadata
 *   service at 169.254.169.254, node-local agents) or loopback, and include the cluster's own ranges (pod, Service and
 *   node networks, the API server: {@link DEFAULT_CLUSTER_CIDRS}) only when the block names them, e.g. a target
 *   `10.20.0.0/16` reaches 10.20.0.0/16, while `0.0.0.0/0` leaves out all of 10.0.0.0/8.
 *
 * NetworkPolicy rules (networking.k8s.io/v1 IPBlock): every `except` entry must be a strict subset of `cidr` and of
 * the same address family, so the exclusions are worked out per block with ipaddr.js.
 */

/** Ranges never reachable through an IP block: link-local (cloud metadata, node-local agents) and loopback. */
export const ALWAYS_EXCLUDED_CIDRS: readonly string[] = ['169.254.0.0/16', 'fe80::/10', '127.0.0.0/8', '::1/128'];

/**
 * Private and shared address ranges a cluster's pods, Services, nodes and API server usually live in (RFC 1918,
 * RFC 6598 carrier-grade NAT as used by some CNIs and clouds, RFC 4193 IPv6 unique local). Excluded from every IP block
 * that does not name them.
 */
export const DEFAULT_CLUSTER_CIDRS: readonly string[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'];

/** The cluster DNS pods platform pods may query (port 53, UDP and TCP). */
export interface DnsPeer {
  /** Namespace of the DNS pods. @default "kube-system" */
  readonly namespace: string;
  /** Labels of the DNS pods (CoreDNS keeps the kube-dns label on kubeadm, kind, k3s, EKS, GKE, AKS). @default { "k8s-app": "kube-dns" } */
  readonly podLabels: Readonly<Record<string, string>>;
}

/** The cluster's network facts the egress rules need. */
export interface NetworkRules {
  /** Ranges of the cluster itself, excluded from IP blocks that do not name them. @default DEFAULT_CLUSTER_CIDRS */
  readonly clusterCidrs?: readonly string[];
  /** The cluster DNS pods. @default DEFAULT_DNS_PEER */
  readonly dns?: DnsPeer;
}

/** kube-system pods labelled `k8s-app: kube-dns` (CoreDNS in most distributions). */
export const DEFAULT_DNS_PEER: DnsPeer = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } };

/** The label every namespace carries with its own name (set by the API server since Kubernetes 1.21). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The egress rule to the cluster DNS pods on 53/UDP and 53/TCP. */
export function dnsEgressRule(rules: NetworkRules = {}): k8s.NetworkPolicyEgressRule {
  const dns = rules.dns ?? DEFAULT_DNS_PEER;
  return {
    to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: dns.namespace } }, podSelector: { matchLabels: { ...dns.podLabels } } }],
    ports: [
      { port: k8s.IntOrString.fromNumber(53), protocol: 'UDP' },
      { port: k8s.IntOrString.fromNumber(53), protocol: 'TCP' },
    ],
  };
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parse(cidr: string): Cidr {
  return ipaddr.parseCIDR(cidr);
}

/** Whether `inner` lies inside `outer` (same family; equal counts as inside). */
function within(inner: Cidr, outer: Cidr): boolean {
  return inner[0].kind() === outer[0].kind() && inner[1] >= outer[1] && inner[0].match(outer);
}

/** What a CIDR must look like (the message of every CIDR field). */
export const CIDR_RULE =
  'must be a CIDR such as "203.0.113.0/24" or "2001:db8::/32" (four decimal octets without leading zeros, or IPv6 without a zone and not IPv4-mapped)';

const IPV4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);

/**
 * Whether `cidr` is a CIDR the API server reads as this module does: four decimal octets without leading zeros for
 * IPv4 (ipaddr.js would also take `10/8`, `0x0a.0.0.0/8` and `012.0.0.0/8`, the last as octal 10 where Kubernetes'
 * sloppy parser reads decimal 12), an IPv6 address without a zone and not IPv4-mapped (`::ffff:169.254.169.254` would
 * slip past the IPv4 exclusions), and a decimal prefix length without leading zeros.
 */
export function isCanonicalCidr(cidr: string): boolean {
  const slash = cidr.lastIndexOf('/');
  if (slash < 0) return false;
  const addr = cidr.slice(0, slash);
  const prefix = cidr.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix)) return false;
  if (IPV4.test(addr)) return Number(prefix) <= 32;
  if (!addr.includes(':') || addr.includes('%') || !ipaddr.IPv6.isValid(addr)) return false;
  return Number(prefix) <= 128 && !ipaddr.IPv6.parse(addr).isIPv4MappedAddress();
}

/** Why `except` cannot be left out of `cidr` (the API server requires each `except` strictly inside its `cidr`), or undefined. */
export function exceptProblem(cidr: string, except: string): string | undefined {
  if (!isCanonicalCidr(cidr) || !isCanonicalCidr(except)) return undefined;
  const [c, e] = [parse(cidr), parse(except)];
  return within(e, c) && e[1] > c[1] ? undefined : `must lie strictly inside its cidr ${cidr} (same address family, a longer prefix)`;
}

/** Canonical text of a CIDR (network address / prefix), so `except` entries compare and sort. */
function canonical(c: Cidr): string {
  const net =
    c[0].kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${c[0].toString()}/${c[1]}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${c[0].toString()}/${c[1]}`);
  return `${net.toString()}/${c[1]}`;
}

/**
 * The problem with an IP block a platform pod is asked to reach, or undefined: a block inside a link-local or loopback
 * range can never be reached (those ranges are always excluded).
 */
export function excludedCidrProblem(cidr: string): string | undefined {
  if (!ipaddr.isValidCIDR(cidr)) return undefined;
  const c = parse(cidr);
  const hit = ALWAYS_EXCLUDED_CIDRS.find((e) => within(c, parse(e)));
  return hit === undefined
    ? undefined
    : `must not lie inside ${hit} (link-local and loopback addresses, among them the cloud metadata service 169.254.169.254, are never reachable)`;
}

/**
 * The IP block for `cidr` with the exclusions of the rule set: the always-excluded ranges and the cluster ranges that
 * lie strictly inside `cidr` (a cluster range that contains `cidr`, or equals it, is named by it and stays reachable),
 * plus the caller's own `except`. Throws when `cidr` lies inside an always-excluded range.
 */
export function ipBlock(cidr: string, except: readonly string[] = [], rules: NetworkRules = {}): k8s.IpBlock {
  const problem = excludedCidrProblem(cidr);
  if (problem !== undefined) throw new Error(`NetworkRules: IP block ${JSON.stringify(cidr)} ${problem}`);
  const block = parse(cidr);
  const candidates = [...ALWAYS_EXCLUDED_CIDRS, ...(rules.clusterCidrs ?? DEFAULT_CLUSTER_CIDRS)].map(parse);
  const auto = candidates.filter((e) => within(e, block) && e[1] > block[1]).map(canonical);
  const seen = new Set<string>();
  const out: string[] = [];
  // The caller's own exceptions first, as written; then the rule set's, sorted, without repeats.
  for (const e of [...except, ...[...new Set(auto)].sort()]) {
    const key = ipaddr.isValidCIDR(e) ? canonical(parse(e)) : e;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return { cidr, ...(out.length > 0 ? { except: out } : {}) };
}

/** One peer per IP block (see {@link ipBlock}). */
export function ipBlockPeers(cidrs: readonly string[], rules: NetworkRules = {}): k8s.NetworkPolicyPeer[] {
  return cidrs.map((cidr) => ({ ipBlock: ipBlock(cidr, [], rules) }));
}

/** All public IPv4 addresses: `0.0.0.0/0` without the always-excluded and the cluster ranges. */
export function publicIpv4(rules: NetworkRules = {}): k8s.IpBlock {
  return ipBlock('0.0.0.0/0', [], rules);
}
