/**
 * Planning a run over several clusters (`loadtest run <test> --context a --context b [--split 3:1]`,
 * docs/multi-cluster.md): which share of the test each cluster runs, with how many runners, in which zone, and the
 * checks that refuse a run no cluster can honour, all before anything is applied to any cluster.
 */
import { InvalidArgumentError } from 'commander';
import {
  apportionRunners,
  executionSplit,
  isInClusterUrl,
  MAX_CLUSTERS,
  MAX_WEIGHT,
  remoteWriteUrl,
  ZONE_NAME,
} from '@k6-platform/constructs/internal';
import type { ExecutionSplit, PlatformConfig } from '@k6-platform/constructs/internal';
import { UsageError } from '../exit-codes';
import { redactUrl } from '../prometheus/auth';
import { planRun, type RunPlan } from './run-plan';

/** One cluster of a multi-cluster run. */
export interface ClusterPlan {
  /** The kube-context. */
  readonly context: string;
  /** The `zone` tag of its runners' samples. */
  readonly zone: string;
  /** Its share of the execution range, `from:to`. */
  readonly range: string;
  /** How many runners it runs. */
  readonly runners: number;
  /** Its objects (its runners only), stop Job and start Job. */
  readonly plan: RunPlan;
}

/** What `--context`, `--split` and `--zone` gave. */
export interface MultiClusterFlags {
  readonly contexts: readonly string[];
  readonly split?: readonly number[];
  readonly zones?: readonly (readonly [string, string])[];
}

const SPLIT_FLAG = '--split <weights>';
const ZONE_FLAG = '--zone <context=name>';

/** `--split 3:1`: one positive integer weight per `--context`, in their order. */
export function splitWeights(value: string): number[] {
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > MAX_CLUSTERS || parts.some((p) => !/^[0-9]+$/.test(p) || Number(p) < 1 || Number(p) > MAX_WEIGHT)) {
    throw new InvalidArgumentError(
      `must be 2 to ${MAX_CLUSTERS} integer weights from 1 to ${MAX_WEIGHT} joined by ":", one per --context in their order, such as 3:1.`,
    );
  }
  return parts.map(Number);
}

/** `--zone <context>=<name>`, repeatable: the zone of one context instead of its label-safe name. */
export function collectZone(value: string, previous: (readonly [string, string])[] | undefined): (readonly [string, string])[] {
  const at = value.lastIndexOf('=');
  const [context, zone] = [value.slice(0, at), value.slice(at + 1)];
  if (at < 1 || !ZONE_NAME.test(zone)) {
    throw new InvalidArgumentError(
      'must be <context>=<zone>, the zone 1 to 32 lower-case letters, digits and "-", starting and ending alphanumeric.',
    );
  }
  return [...(previous ?? []), [context, zone] as const];
}

/**
 * A kube-context's name made a zone name: lower case, every run of other characters one "-", at most 32 characters,
 * the end kept (EKS and GKE context names end in the cluster's name: `arn:aws:eks:<region>:<account>:cluster/<name>`,
 * `gke_<project>_<location>_<name>`).
 */
export function zoneOf(context: string): string {
  const safe = context
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(-32)
    .replace(/^-+|-+$/g, '');
  return safe === '' ? 'zone' : safe;
}

/**
 * The zone of every context (`--zone` first, else {@link zoneOf}); two contexts in one zone, a `--zone` of a context
 * not given, or a context given twice are usage errors.
 */
function zonesOf(flags: MultiClusterFlags): string[] {
  const given = new Map(flags.zones ?? []);
  for (const context of given.keys()) {
    if (!flags.contexts.includes(context)) {
      throw new UsageError(
        `option '${ZONE_FLAG}' argument '${context}=${given.get(context)!}' names no --context (given: ${flags.contexts.join(', ')})`,
      );
    }
  }
  const seen = new Map<string, string>();
  return flags.contexts.map((context) => {
    const zone = given.get(context) ?? zoneOf(context);
    const other = seen.get(zone);
    if (other !== undefined) {
      throw new UsageError(
        other === context
          ? `option '--context <name>' names '${context}' twice: each cluster once`
          : `contexts '${other}' and '${context}' both get zone '${zone}': give one of them another with ${ZONE_FLAG}`,
      );
    }
    seen.set(zone, context);
    return zone;
  });
}

/**
 * Refuses what a multi-cluster run cannot do: mode "operator" (the k6-operator gives every runner the segment i/N of
 * [0, 1] from the TestRun's parallelism, k6-operator v1.6.0 pkg/segmentation/segmentation.go NewCommandFragments,
 * called by pkg/resources/jobs/runner.go: no sub-range), a schedule (nothing would gate the clusters' start), and
 * runners writing to each cluster's own Prometheus (the verdict must judge all clusters' samples in one backend).
 */
function checkMultiCluster(cfg: PlatformConfig, testName: string, contexts: readonly string[]): void {
  const test = cfg.tests.find((t) => t.name === testName)!;
  const what = `a run over ${contexts.length} clusters (--context ${contexts.join(' --context ')})`;
  if (test.mode === 'operator') {
    throw new UsageError(
      `test '${testName}' has mode "operator": ${what} needs mode "jobs", because a k6-operator TestRun splits [0, 1] over its own parallelism and cannot run a sub-range of the test`,
    );
  }
  if (test.schedule !== undefined) throw new UsageError(`test '${testName}' has a schedule ("${test.schedule}"): ${what} needs an unscheduled test`);
  const url = remoteWriteUrl(cfg);
  if (cfg.monitoring.backend === undefined && (cfg.monitoring.remoteWriteUrl === undefined || isInClusterUrl(url))) {
    throw new UsageError(
      `${what} needs one metrics backend that the runners of every cluster write to and the verdict reads: the runners would write to ${redactUrl(url)}, ` +
        "a Prometheus inside each cluster, so each cluster's samples would land apart and the verdict would judge one cluster's part. " +
        'Set monitoring.backend (docs/backends.md) or a monitoring.remoteWriteUrl outside the clusters, reachable from all of them',
    );
  }
  if (cfg.monitoring.backend !== undefined && isInClusterUrl(url)) {
    throw new UsageError(
      `${what} needs a backend every cluster reaches: monitoring.backend writes to ${redactUrl(url)}, a Service inside each cluster; give it an address outside the clusters`,
    );
  }
}

/**
 * With `vus` declared, every runner must get at least one VU: k6 hands a runner about `vus` times its segment's length
 * (k6 v1.7.1 lib/execution_segment.go, the striped offsets of the sequence), at least one when that is at least 1. A
 * single-cluster run checks `vus >= parallelism` (equal segments); unequal segments need the smallest one checked.
 */
function checkVus(testName: string, vus: number, split: ExecutionSplit, contexts: readonly string[]): void {
  for (const [i, c] of split.clusters.entries()) {
    const s = c.segments[0]!; // a cluster's segments are equal
    const length = s.to.sub(s.from);
    if (vus * length.num < length.den) {
      throw new UsageError(
        `test '${testName}' declares vus ${vus}: the runners of --context ${contexts[i]!} run ${length.toString()} of the test each, ` +
          `fewer than one VU; set 'vus' to at least ${Math.ceil(length.den / length.num)}, or change --split or 'parallelism'`,
      );
    }
  }
}

/**
 * Plans every cluster's part of a multi-cluster run: the test's [0, 1] split by the weights (default equal), its
 * `parallelism` apportioned by the same weights (each cluster at least one runner; the total stays `parallelism`),
 * one execution segment sequence for all. Every problem is a usage error naming the option, before any apply.
 */
export function planClusters(cfg: PlatformConfig, rootDir: string, testName: string, runId: string, flags: MultiClusterFlags): ClusterPlan[] {
  const { contexts } = flags;
  if (contexts.length > MAX_CLUSTERS)
    throw new UsageError(`option '--context <name>' is given ${contexts.length} times: at most ${MAX_CLUSTERS} clusters`);
  const zones = zonesOf(flags);
  const weights = flags.split ?? contexts.map(() => 1);
  if (weights.length !== contexts.length) {
    throw new UsageError(
      `option '${SPLIT_FLAG}' argument '${weights.join(':')}' has ${weights.length} weights for ${contexts.length} --context options: give one weight per --context, such as ${contexts.map(() => 1).join(':')}`,
    );
  }
  checkMultiCluster(cfg, testName, contexts);
  const test = cfg.tests.find((t) => t.name === testName)!;
  if (test.parallelism < contexts.length) {
    throw new UsageError(
      `test '${testName}' has parallelism ${test.parallelism}, fewer runners than the ${contexts.length} --context options: each cluster runs at least one runner, so set 'parallelism' to at least ${contexts.length}`,
    );
  }
  const split = executionSplit(weights, apportionRunners(test.parallelism, weights));
  if (test.vus !== undefined) checkVus(testName, test.vus, split, contexts);
  return split.clusters.map((share, i) => {
    const shard = { segments: share.segments.map((s) => s.segment), sequence: split.sequence, zone: zones[i]! };
    const range = `${share.from.toString()}:${share.to.toString()}`;
    return { context: contexts[i]!, zone: zones[i]!, range, runners: share.segments.length, plan: planRun(cfg, rootDir, testName, runId, shard) };
  });
}
