import { z } from 'zod';
import { DEFAULT_CLUSTER_CIDRS, DEFAULT_DNS_PEER, exceptProblem, excludedCidrProblem } from '../network/network-rules';
import { labelMap } from './kubernetes';
import { cidrFormat, dnsLabel } from './rules';

/** Network formats: the egress targets of a test and the `network` section (the cluster's ranges and DNS pods). */

/** A target's IP block: never inside the always-excluded link-local and loopback ranges (network-rules.ts). */
const targetCidr = cidrFormat.superRefine((s, ctx) => {
  const problem = excludedCidrProblem(s);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', input: s, message: problem });
});
const port = z
  .number({ error: 'must be a port number between 1 and 65535' })
  .int({ error: 'must be a port number between 1 and 65535' })
  .min(1, { error: 'must be a port number between 1 and 65535' })
  .max(65535, { error: 'must be a port number between 1 and 65535' });
/** Where runners may send traffic (NetworkPolicy egress): an IP block, or pods of an in-cluster namespace. */
export const egressTarget = z
  .strictObject({
    /** IP block of the system under test. @example "203.0.113.0/24" */
    cidr: targetCidr.optional(),
    /** Parts of `cidr` to leave out. @default - none */
    except: z.array(cidrFormat).optional(),
    /** Namespace of an in-cluster system under test. @default - none (use `cidr`) */
    namespace: dnsLabel().optional(),
    /** Labels of the target pods inside `namespace`. @default - every pod of the namespace */
    podLabels: z.lazy(() => labelMap).optional(),
    /** Destination ports. */
    ports: z.array(port).min(1, { error: 'must list at least one port' }),
    /** Transport protocol. @default "TCP" */
    protocol: z.enum(['TCP', 'UDP']).default('TCP'),
  })
  .superRefine((t, ctx) => {
    if ((t.cidr === undefined) === (t.namespace === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], input: t, message: 'must set exactly one of "cidr" or "namespace"' });
    }
    if (t.except !== undefined && t.cidr === undefined) {
      ctx.addIssue({ code: 'custom', path: ['except'], input: t.except, message: 'needs "cidr": it leaves parts of an IP block out' });
    }
    t.except?.forEach((e, i) => {
      const problem = t.cidr !== undefined ? exceptProblem(t.cidr, e) : undefined;
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['except', i], input: e, message: problem });
    });
  });
/** Where runners may send traffic, as parsed. */
export type EgressTarget = z.output<typeof egressTarget>;

/** The cluster's network facts the NetworkPolicies need (network-rules.ts). */
export const networkConfig = z.strictObject({
  /**
   * The cluster's own ranges (pods, Services, nodes, the API server endpoint), left out of every IP block that does not
   * name them. Add a public API server endpoint here. @default - 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7
   */
  clusterCidrs: z
    .array(cidrFormat)
    .min(1)
    .default([...DEFAULT_CLUSTER_CIDRS]),
  /** The cluster DNS pods, the only DNS servers platform pods may query. */
  dns: z
    .strictObject({
      /** Namespace of the DNS pods. @default "kube-system" */
      namespace: dnsLabel().default(DEFAULT_DNS_PEER.namespace),
      /** Labels of the DNS pods (at least one). @default { "k8s-app": "kube-dns" } */
      podLabels: labelMap
        .refine((l) => Object.keys(l).length > 0, { error: 'must name at least one label (an empty selector selects every pod of the namespace)' })
        .default({ ...DEFAULT_DNS_PEER.podLabels }),
    })
    .prefault({}),
});
