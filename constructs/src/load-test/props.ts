import type { NetworkRules } from '../network/network-rules';
import type { RemoteWriteAuth, ResourceRequirements, TestInput } from '../config/platform-config';
import type { TestScripts } from './test-scripts';
import type { ResolvedBackend } from '../backend/backend';

/** Runner-wide defaults (the platform config's `runner` section). */
export interface RunnerDefaults {
  /** Requests and limits of each runner when the test sets none. @default - none */
  readonly resources?: ResourceRequirements;
  /** K6_PROMETHEUS_RW_PUSH_INTERVAL. @default - the platform config schema's `runner.pushInterval` default ("5s") */
  readonly pushInterval?: string;
  /** Send trends as native histograms. @default - the platform config schema's `runner.nativeHistograms` default (true) */
  readonly nativeHistograms?: boolean;
  /** Credentials for the remote-write endpoint, from Secrets. @default - none */
  readonly remoteWriteAuth?: RemoteWriteAuth;
  /**
   * Runners of tests whose scripts import `k6/browser`: their requests and limits (instead of `resources`) and the
   * size limits of their /dev/shm and /tmp. @default - the platform config schema's `runner.browser` defaults
   */
  readonly browser?: BrowserRunnerDefaults;
}

/** Browser runner defaults (the platform config's `runner.browser`). */
export interface BrowserRunnerDefaults {
  /** Requests and limits of each browser runner when the test sets none. @default - 2 CPU / 4Gi requests, 4 CPU / 8Gi limits */
  readonly resources?: ResourceRequirements;
  /** Size limit of the memory-backed /dev/shm. @default "1Gi" */
  readonly shmSize?: string;
  /** Size limit of /tmp. @default "2Gi" */
  readonly tmpSize?: string;
}

/** The Prometheus pods runners write to, for their NetworkPolicy egress. */
export interface PrometheusPeer {
  /** Namespace of Prometheus. */
  readonly namespace: string;
  /** Labels of the Prometheus pods. @example { "app.kubernetes.io/name": "prometheus" } */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Port the pods listen on. @default PROMETHEUS_PORT (9090) */
  readonly port?: number;
}

/**
 * One cluster's part of a run split over several clusters (`loadtest run --context a --context b`, docs/multi-cluster.md):
 * its runners' execution segments, the sequence every runner of every cluster shares, and the cluster's zone. The
 * cluster's runners do not start on their own: the starter beside runner 0 only waits until they are ready (and with
 * setup once runs setup() for this cluster), and the start Job ({@link LoadTest.startJobManifest}) resumes them at
 * the start time all clusters share.
 */
export interface RunShard {
  /** The `--execution-segment` of each of this cluster's runners, its runner 0 first (from `executionSplit`); their count is the cluster's runner count. */
  readonly segments: readonly string[];
  /** The `--execution-segment-sequence` of every runner of every cluster (`executionSplit(...).sequence`). */
  readonly sequence: string;
  /** The cluster's zone: every sample carries `zone=<zone>`, and runner i's `instance_id` is `<zone>-<i>`. A label value: lower-case letters, digits and "-". */
  readonly zone: string;
}

/** Props of {@link LoadTest}. */
export interface LoadTestProps {
  /**
   * The test and its run options as written in the platform config (`tests[]`; defaults apply), or a parsed
   * `TestConfig`. Parsed here, once: bad values fail naming the field (`'test.parallelism'`).
   */
  readonly test: TestInput;
  /** The test's script bundle (ConfigMap). */
  readonly scripts: TestScripts;
  /** Remote-write endpoint of Prometheus. @example "http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write" */
  readonly remoteWriteUrl: string;
  /**
   * Base URL of the query API of the Prometheus runners write to, for the abortOnFail watcher of scheduled runs (the
   * starter evaluates `<url>/api/v1/query`). @default - `remoteWriteUrl` without its `/api/v1/write`
   */
  readonly prometheusQueryUrl?: string;
  /** Runner image (the lead wires in a built image with extensions). @default - the pinned official k6 image, with Chromium when the scripts import `k6/browser` */
  readonly image?: string;
  /** Runner-wide defaults: resources, push interval, native histograms, remote-write credentials. @default - see RunnerDefaults */
  readonly runner?: RunnerDefaults;
  /** Prometheus pods, opened in the runners' NetworkPolicy egress. @default - none (declare the endpoint in `targets`) */
  readonly prometheus?: PrometheusPeer;
  /**
   * The content-addressed data image of a test with `data.mode` "image" (see runner-image/data-image.ts). Required for that mode.
   * @example "registry.example.com/team/k6-data:checkout-0123456789ab"
   * @default - none
   */
  readonly dataImage?: string;
  /** Image of the starter (POSIX sh + curl). @default versions.starterImage */
  readonly starterImage?: string;
  /**
   * A shared metrics backend (`monitoring.backend`): its tenant headers, credentials and TLS go into the runners'
   * environment and volumes, and its endpoint into their egress (instead of `prometheus`).
   * @default - none: `remoteWriteUrl` alone, credentials from `runner.remoteWriteAuth`
   */
  readonly backend?: ResolvedBackend;
  /** Cluster ranges and DNS pods for the NetworkPolicies (network-rules.ts). @default - DEFAULT_CLUSTER_CIDRS, kube-system/kube-dns */
  readonly network?: NetworkRules;
  /** This cluster's part of a run over several clusters (mode "jobs", unscheduled). @default - none: the whole run in one cluster */
  readonly shard?: RunShard;
}
