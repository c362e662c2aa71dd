import { ABORT_WATCH_KEY } from '../k6/abort-watch-file';
import { k8s } from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { executionSegments, executionSegmentSequence } from '../k6/execution-segments';
import { LABELS } from '../contract/labels';
import { K6_API_PORT, RUNNER_COUNT_ENV } from '../contract/k6';
import { PROMETHEUS_PORT } from '../contract/prometheus';
import { versions } from '../contract/versions';
import { dnsEgressRule, ipBlock, publicIpv4, type NetworkRules } from '../network/network-rules';
import { backendEgressTarget, backendRunnerEnv } from '../backend/runner-backend';
import type { EgressTarget, TestConfig } from '../config/platform-config';
import { STARTER_MOUNT_PATH, STARTER_SCRIPT_KEY } from '../k6/starter';
import { classicTrendStats, type ThresholdsConfig } from '../k6/thresholds';
import { RUNNER_CONFIG_DEFAULTS, STARTER_CONTAINER, STARTER_RESOURCES } from './constants';
import type { LoadTestProps, RunShard } from './props';
import { containerSecurity, podSecurity, secretEnv, toResources } from './resources';

/** What every part of a run (jobs form, operator form, stop Job) reads: the parsed test and the names derived from it. */
export interface RunContext {
  /** The construct the run's objects are created in. */
  readonly scope: Construct;
  /** The parsed test options. */
  readonly test: TestConfig;
  /** The props, with the runner resources resolved. */
  readonly props: LoadTestProps;
  /** Run id: prefix of every object name. */
  readonly runId: string;
  /** Labels every object (and pod) of the run carries. */
  readonly labels: Readonly<Record<string, string>>;
  /** Runner image. */
  readonly image: string;
  /** Namespace of the chart, if it sets one. */
  readonly namespace?: string;
  /** The run's ConfigMap: per-runner k6 config files and the starter script. */
  readonly configMap: k8s.KubeConfigMap;
  /** The thresholds judged over all runners (classic trend stats follow them). */
  readonly thresholds: ThresholdsConfig;
  /** The script's `options.tags`. */
  readonly scriptTags: Readonly<Record<string, string>>;
  /** Runner deadline in seconds, when the test declares a duration. */
  readonly activeDeadlineSeconds?: number;
  /** The abortOnFail watch file of a scheduled run (constructs/src/k6/abort-watch-file.ts), in the run's ConfigMap. */
  readonly abortWatch?: string;
  /** This cluster's part of a multi-cluster run (`test.parallelism` is then this cluster's runner count). */
  readonly shard?: RunShard;
}

/** Each runner's `--execution-segment`, runner 0 first: the shard's, else the N equal segments of [0, 1]. */
export function runnerSegments(ctx: Pick<RunContext, 'test' | 'shard'>): string[] {
  return ctx.shard !== undefined ? [...ctx.shard.segments] : executionSegments(ctx.test.parallelism).map((s) => s.segment);
}

/** The `--execution-segment-sequence` of every runner: the one all clusters share, else `0,1/N,...,1`. */
export function runnerSequence(ctx: Pick<RunContext, 'test' | 'shard'>): string {
  return ctx.shard?.sequence ?? executionSegmentSequence(ctx.test.parallelism);
}

/** Metadata of an object of the run: its name, the chart's namespace, the run labels and `component`. */
export function meta(ctx: Pick<RunContext, 'namespace' | 'labels'>, name: string, component: string): k8s.ObjectMeta {
  return {
    name,
    ...(ctx.namespace !== undefined ? { namespace: ctx.namespace } : {}),
    labels: { ...ctx.labels, [LABELS.component]: component },
  };
}

/** Labels of the run's pods of `component`. */
export function podLabels(ctx: RunContext, component: string): Record<string, string> {
  return { ...ctx.labels, [LABELS.component]: component };
}

/** What every pod of the run shares: its ServiceAccount (no token), no service links, the restricted pod context. */
export function podBase(serviceAccountName: string): Partial<k8s.PodSpec> {
  return {
    serviceAccountName,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurity(),
  };
}

/** The runner base URLs (`http://<job>-<i>.<service>.<ns>.svc:6565`), runner 0 first. */
export function runnerUrls(ctx: RunContext, jobName = `${ctx.runId}-runner`): string[] {
  const domain = ctx.namespace !== undefined ? `${ctx.runId}.${ctx.namespace}.svc` : ctx.runId;
  return executionSegments(ctx.test.parallelism).map((s) => `http://${jobName}-${s.index}.${domain}:${K6_API_PORT}`);
}

/** The REST API base URLs of a mode "operator" run's runners (Service `<name>-service-<i>`, i = 1..N). */
export function operatorRunnerUrls(ctx: RunContext): string[] {
  const ns = ctx.namespace !== undefined ? `.${ctx.namespace}.svc` : '';
  return Array.from({ length: ctx.test.parallelism }, (_, i) => `http://${ctx.runId}-service-${i + 1}${ns}:${K6_API_PORT}`);
}

/** Node selector, tolerations, affinity (with one runner per node when asked) and image pull Secrets of the runners. */
export function placement(ctx: RunContext): Partial<k8s.PodSpec> {
  const t = ctx.test;
  const affinity = { ...((t.affinity ?? {}) as k8s.Affinity) };
  if (t.onePerNode) {
    const anti = affinity.podAntiAffinity ?? {};
    affinity.podAntiAffinity = {
      ...anti,
      requiredDuringSchedulingIgnoredDuringExecution: [
        ...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        { labelSelector: { matchLabels: podLabels(ctx, 'runner') }, topologyKey: 'kubernetes.io/hostname' },
      ],
    };
  }
  return {
    ...(Object.keys(t.nodeSelector).length > 0 ? { nodeSelector: t.nodeSelector } : {}),
    ...(t.tolerations.length > 0 ? { tolerations: t.tolerations } : {}),
    ...(Object.keys(affinity).length > 0 ? { affinity } : {}),
    ...(t.imagePullSecrets.length > 0 ? { imagePullSecrets: t.imagePullSecrets.map((name) => ({ name })) } : {}),
  };
}

/**
 * The script's own `options.tags` as `--tag name=value` flags. Empty values are left out (k6 refuses `--tag name=`,
 * internal/cmd/options.go parseTagNameValue, and drops empty tags from samples anyway); `$` is doubled because the
 * kubelet expands `$(VAR)` in container args.
 */
export function scriptTagArgs(ctx: RunContext): string[] {
  return Object.entries(ctx.scriptTags)
    .filter(([, v]) => v !== '')
    .flatMap(([k, v]) => ['--tag', `${k}=${v}`.replaceAll('$', '$$$$')]);
}

/** Environment of a runner: Prometheus output, credentials from Secrets, the test's env. */
export function k6Env(ctx: RunContext): k8s.EnvVar[] {
  const r = ctx.props.runner ?? {};
  const t = ctx.test;
  const native = r.nativeHistograms ?? RUNNER_CONFIG_DEFAULTS.nativeHistograms;
  const env: k8s.EnvVar[] = [
    { name: 'K6_PROMETHEUS_RW_SERVER_URL', value: ctx.props.remoteWriteUrl },
    { name: 'K6_PROMETHEUS_RW_PUSH_INTERVAL', value: r.pushInterval ?? RUNNER_CONFIG_DEFAULTS.pushInterval },
    // k6 v1.7.1 reads this variable alone (internal/output/prometheusrw/remotewrite/config.go); it has no K6_FEATURES.
    { name: 'K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM', value: String(native) },
    ...(native ? [] : [{ name: 'K6_PROMETHEUS_RW_TREND_STATS', value: classicTrendStats(ctx.thresholds).join(',') }]),
    { name: 'K6_PROMETHEUS_RW_STALE_MARKERS', value: 'true' },
    { name: 'K6_NO_USAGE_REPORT', value: 'true' },
    { name: RUNNER_COUNT_ENV, value: String(t.parallelism) },
  ];
  const auth = r.remoteWriteAuth;
  if (auth?.type === 'basic') {
    env.push(secretEnv('K6_PROMETHEUS_RW_USERNAME', auth.username), secretEnv('K6_PROMETHEUS_RW_PASSWORD', auth.password));
  } else if (auth?.type === 'bearer') {
    env.push(secretEnv('K6_PROMETHEUS_RW_BEARER_TOKEN', auth.token));
  }
  if (ctx.props.backend !== undefined) env.push(...backendRunnerEnv(ctx.props.backend));
  for (const [name, value] of Object.entries(t.env)) env.push({ name, value });
  for (const [name, ref] of Object.entries(t.secretEnv)) env.push(secretEnv(name, ref));
  return env;
}

/** The test's `envFrom` ConfigMaps and Secrets as container envFrom sources. */
export function envFrom(ctx: RunContext): k8s.EnvFromSource[] {
  return ctx.test.envFrom.map((e) => ({
    ...(e.prefix !== undefined ? { prefix: e.prefix } : {}),
    ...(e.configMap !== undefined ? { configMapRef: { name: e.configMap } } : { secretRef: { name: e.secret! } }),
  }));
}

/** The starter container (beside runner 0, or alone in the stop Job) running `cmd` as `uid`. */
export function starterContainer(ctx: RunContext, cmd: { command: string[]; args: string[] }, uid: number): k8s.Container {
  return {
    name: STARTER_CONTAINER,
    image: ctx.props.starterImage ?? versions.starterImage,
    command: cmd.command,
    args: cmd.args,
    resources: toResources(STARTER_RESOURCES),
    securityContext: containerSecurity(uid),
    volumeMounts: [{ name: 'starter', mountPath: STARTER_MOUNT_PATH, readOnly: true }],
  };
}

/** The starter script from the run's ConfigMap. */
export function starterVolume(ctx: RunContext): k8s.Volume {
  const keys = [STARTER_SCRIPT_KEY, ...(ctx.abortWatch !== undefined ? [ABORT_WATCH_KEY] : [])];
  return { name: 'starter', configMap: { name: ctx.configMap.name, items: keys.map((key) => ({ key, path: key })) } };
}

/** Egress to the Prometheus pods runners write to, when declared; to the metrics backend when there is one. */
export function prometheusEgress(ctx: RunContext): k8s.NetworkPolicyEgressRule[] {
  if (ctx.props.backend !== undefined) {
    const b = backendEgressTarget(ctx.props.backend);
    const to: k8s.NetworkPolicyPeer[] =
      b.namespace !== undefined
        ? [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': b.namespace } } }]
        : [{ ipBlock: b.cidr !== undefined ? ipBlock(b.cidr, [], ctx.props.network) : publicIpv4(ctx.props.network) }];
    return [{ to, ports: [{ port: k8s.IntOrString.fromNumber(b.port), protocol: 'TCP' }] }];
  }
  const p = ctx.props.prometheus;
  if (p === undefined) return [];
  return [
    {
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': p.namespace } }, podSelector: { matchLabels: { ...p.podLabels } } }],
      ports: [{ port: k8s.IntOrString.fromNumber(p.port ?? PROMETHEUS_PORT), protocol: 'TCP' }],
    },
  ];
}

/** DNS to the cluster DNS pods only (network-rules.ts: the same rule as every platform pod). */
export function dnsEgress(network?: NetworkRules): k8s.NetworkPolicyEgressRule {
  return dnsEgressRule(network);
}

/**
 * A declared target: an IP block (network-rules.ts: link-local and loopback always left out, the cluster's own ranges
 * left out unless the block names them), or pods of an in-cluster namespace.
 */
export function targetEgress(t: EgressTarget, network?: NetworkRules): k8s.NetworkPolicyEgressRule {
  const peer: k8s.NetworkPolicyPeer =
    t.cidr !== undefined
      ? { ipBlock: ipBlock(t.cidr, t.except ?? [], network) }
      : {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': t.namespace! } },
          ...(t.podLabels !== undefined ? { podSelector: { matchLabels: t.podLabels } } : {}),
        };
  return { to: [peer], ports: t.ports.map((port) => ({ port: k8s.IntOrString.fromNumber(port), protocol: t.protocol })) };
}

/** A client of the runners' REST API (the operator's starter, the stop Job): nothing may reach it; it reaches DNS and the runners' API only. */
export function clientNetworkPolicy(ctx: RunContext, component: string, id: string): void {
  new k8s.KubeNetworkPolicy(ctx.scope, id, {
    metadata: meta(ctx, `${ctx.runId}-${component}`, component),
    spec: {
      podSelector: { matchLabels: podLabels(ctx, component) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [
        dnsEgress(ctx.props.network),
        {
          to: [{ podSelector: { matchLabels: podLabels(ctx, 'runner') } }],
          ports: [{ port: k8s.IntOrString.fromNumber(K6_API_PORT), protocol: 'TCP' }],
        },
      ],
    },
  });
}
