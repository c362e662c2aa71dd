import { createHash } from 'node:crypto';
import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { executionSegments, executionSegmentSequence } from '../k6/execution-segments';
import {
  TestRun,
  TestRunSpecCleanup,
  TestRunSpecRunnerResourcesLimits,
  TestRunSpecRunnerResourcesRequests,
  TestRunSpecRunnerVolumesEmptyDirSizeLimit,
  TestRunSpecStarterResourcesLimits,
  TestRunSpecStarterResourcesRequests,
  type TestRunSpecRunner,
  type TestRunSpecRunnerResources,
  type TestRunSpecRunnerVolumes,
  type TestRunSpecStarterResources,
} from '../imports/k6.io';
import { LABELS, RUN_TAGS } from '../contract/labels';
import { dnsEgressRule, ipBlock, type NetworkRules } from '../network/network-rules';
import {
  describeIssues,
  k6DurationSeconds,
  testSchema,
  type EgressTarget,
  type RemoteWriteAuth,
  type ResourceRequirements,
  type TestConfig,
} from '../config/platform-config';
import { assertScriptOptionsReadable, judgedThresholds } from '../k6/script-options';
import { STARTER_MOUNT_PATH, STARTER_SCRIPT_KEY, STARTER_STARTED_FILE, starterCommand, starterScript } from '../k6/starter';
import { SCRIPTS_MOUNT_PATH, type TestScripts } from './test-scripts';
import { defaultK6Image, versions } from '../contract/versions';
import { classicTrendStats, type ThresholdsConfig } from '../k6/thresholds';
import { K6_API_PORT, RUN_ID_ENV, RUNNER_COUNT_ENV, RUNNER_INDEX_ENV } from '../contract/k6';

/** uid/gid of the `k6` user of the official grafana/k6 image (the pod must name a numeric non-root user). */
export const RUNNER_UID = 12345;
/** uid/gid of the `curl_user` of the curlimages/curl image the starter runs. */
export const STARTER_UID = 100;
/** Where runners mount the run's k6 config files (one per runner: segment, thresholds, setup switches). */
export const RUN_CONFIG_MOUNT_PATH = '/etc/k6-platform';
/** Label value (`app.kubernetes.io/component`) of the short Job `loadtest run` starts on Ctrl-C to stop the runners. */
export const STOPPER_COMPONENT = 'stopper';
/** Run tag (and Prometheus label) naming the test of a run: maps a run to its test without parsing the run id. */
export const TEST_TAG = RUN_TAGS.test;
/**
 * Trend stats runners send in classic mode (native histograms off) at the least: the ones the classic dashboard reads.
 * Each test adds what its thresholds need ({@link classicTrendStats}); k6's default is only `p(99)`.
 */
export const CLASSIC_TREND_STATS: string = classicTrendStats().join(',');
/** Size limit of the /tmp emptyDir of runners (k6 and the operator's initializer write there). */
const TMP_SIZE_LIMIT = '256Mi';
/** Size limit of the starter's state directory (setup() data passes through it). */
const STARTER_TMP_SIZE_LIMIT = '64Mi';
/** Requests and limits of a runner when neither the test nor `runner.resources` sets any (the config's own default). */
export const DEFAULT_RUNNER_RESOURCES: ResourceRequirements = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } };
/** Requests and limits of the starter and stop containers (ours, and the operator's starter through TestRun `spec.starter.resources`). */
export const STARTER_RESOURCES: ResourceRequirements = { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } };
/** Pod annotation the Job controller sets on Indexed Job pods (Kubernetes batch/v1 `JobCompletionIndexAnnotation`). */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
/** Name of the k6 container of a runner pod. */
export const K6_CONTAINER = 'k6';
/** Name of the starter container beside runner 0 (mode "jobs"), and of the stop Job's container. */
export const STARTER_CONTAINER = 'starter';
/** Pod label the Job controller sets to the Job's name (Kubernetes >= 1.27). */
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

/** Runner-wide defaults (the platform config's `runner` section). */
export interface RunnerDefaults {
  /** Requests and limits of each runner when the test sets none. @default - none */
  readonly resources?: ResourceRequirements;
  /** K6_PROMETHEUS_RW_PUSH_INTERVAL. @default "5s" */
  readonly pushInterval?: string;
  /** Send trends as native histograms. @default true */
  readonly nativeHistograms?: boolean;
  /** Credentials for the remote-write endpoint, from Secrets. @default - none */
  readonly remoteWriteAuth?: RemoteWriteAuth;
}

/** The Prometheus pods runners write to, for their NetworkPolicy egress. */
export interface PrometheusPeer {
  /** Namespace of Prometheus. */
  readonly namespace: string;
  /** Labels of the Prometheus pods. @example { "app.kubernetes.io/name": "prometheus" } */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Port the pods listen on. @default 9090 */
  readonly port?: number;
}

/** Props of {@link LoadTest}. */
export interface LoadTestProps {
  /** The test and its run options, as in the platform config (`tests[]`); parsed again here, so bad values fail by field name. */
  readonly test: TestConfig;
  /** The test's script bundle (ConfigMap). */
  readonly scripts: TestScripts;
  /** Remote-write endpoint of Prometheus. @example "http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write" */
  readonly remoteWriteUrl: string;
  /** Runner image (the lead wires in a built image with extensions). @default - the pinned official k6 image */
  readonly image?: string;
  /** Runner-wide defaults: resources, push interval, native histograms, remote-write credentials. @default - see RunnerDefaults */
  readonly runner?: RunnerDefaults;
  /** Prometheus pods, opened in the runners' NetworkPolicy egress. @default - none (declare the endpoint in `targets`) */
  readonly prometheus?: PrometheusPeer;
  /** Image of the starter (POSIX sh + curl). @default versions.starterImage */
  readonly starterImage?: string;
  /** Cluster ranges and DNS pods for the NetworkPolicies (network-rules.ts). @default - DEFAULT_CLUSTER_CIDRS, kube-system/kube-dns */
  readonly network?: NetworkRules;
}

export { k6DurationSeconds };

/**
 * A distributed k6 run of one test: N runners, each executing its execution segment, started together, writing metrics
 * to Prometheus tagged `testid=<run id>`.
 *
 * - mode "jobs" (default, no operator): an Indexed Job of paused runners behind a headless Service; a starter container
 *   beside runner 0 resumes them all at once when every one is ready (and with `setupOnce` runs setup() and teardown()
 *   once for the run); with `schedule`, a CronJob of that Job whose Job name is each run's testid.
 * - mode "operator": a k6-operator `TestRun` from the same props.
 *
 * Runners never judge thresholds (`--no-thresholds`): each sees only its segment; the platform judges over all runners.
 * Every pod meets the restricted Pod Security Standard; NetworkPolicies let runners reach only DNS, Prometheus, the
 * declared targets and each other's REST API, and let nothing but the runners and the stop Job reach the runners.
 */
export class LoadTest extends Construct {
  /** The parsed test options. */
  public readonly test: TestConfig;
  /** Run id: prefix of every object name, value of the run-id label and (unscheduled) of the `testid` tag. */
  public readonly runId: string;
  /** Labels every object (and pod) of the run carries. */
  public readonly labels: Readonly<Record<string, string>>;
  /** Runner image. */
  public readonly image: string;
  /** The runners' Indexed Job (mode "jobs", no schedule). */
  public readonly runnerJob?: k8s.KubeJob;
  /** The CronJob (mode "jobs" with a schedule). */
  public readonly cronJob?: k8s.KubeCronJob;
  /** The headless Service giving runners stable DNS names (mode "jobs"). */
  public readonly service?: k8s.KubeService;
  /** The k6-operator TestRun (mode "operator"). */
  public readonly testRun?: TestRun;
  /** The run's ConfigMap: per-runner k6 config files and the starter script. */
  public readonly configMap: k8s.KubeConfigMap;
  /** Runner deadline in seconds (start timeout + duration + grace), when the test declares a duration. */
  public readonly activeDeadlineSeconds?: number;
  /**
   * The thresholds that judge this run over all runners: the test's config `thresholds` plus the script's own
   * `options.thresholds`, key by key (no runner judges them: `--no-thresholds`).
   */
  public readonly thresholds: ThresholdsConfig;
  /** The script's `options.tags`, repeated as `--tag` flags so that the run tags do not replace them. */
  public readonly scriptTags: Readonly<Record<string, string>>;

  private readonly props: LoadTestProps;
  private readonly namespace?: string;

  public constructor(scope: Construct, id: string, props: LoadTestProps) {
    super(scope, id);
    const parsed = testSchema.safeParse(props.test, { reportInput: true });
    if (!parsed.success) {
      throw new Error(
        describeIssues(parsed.error, ['tests', 0])
          .map((line) => `LoadTest: ${line}`)
          .join('\n'),
      );
    }
    // Every runner (and the operator's initializer, sized like one) gets requests and limits: the documented defaults
    // when neither the test nor the runner defaults set any.
    this.props = { ...props, runner: { ...props.runner, resources: props.runner?.resources ?? DEFAULT_RUNNER_RESOURCES } };
    const t = (this.test = parsed.data);
    // The script's thresholds and tags must be known here: runners do not judge, and `--tag` replaces options.tags.
    assertScriptOptionsReadable(props.scripts.options, props.scripts.files[0]?.path ?? t.script, `LoadTest: test '${t.name}'`);
    this.thresholds = judgedThresholds(t.thresholds, props.scripts.options.thresholds);
    this.scriptTags = props.scripts.options.tags ?? {};
    this.namespace = Chart.of(this).namespace;
    this.image = props.image ?? defaultK6Image;
    this.runId = t.runId ?? defaultRunId(t, props, this.image);
    this.labels = { [LABELS.test]: t.name, [LABELS.runId]: this.runId };
    if (t.duration !== undefined) {
      this.activeDeadlineSeconds = k6DurationSeconds(t.startTimeout) + k6DurationSeconds(t.duration) + k6DurationSeconds(t.gracePeriod);
    }

    const segments = executionSegments(t.parallelism);
    const runnerConfigs: Record<string, string> = {};
    if (t.mode === 'operator') {
      runnerConfigs['runner.json'] = JSON.stringify({});
    } else {
      for (const s of segments) {
        runnerConfigs[runnerConfigKey(s.index)] = JSON.stringify(runnerK6Config(s.segment, s.index, t.setupOnce));
      }
    }
    this.configMap = new k8s.KubeConfigMap(this, 'Config', {
      metadata: this.meta(`${this.runId}-config`, 'run-config'),
      immutable: true,
      // The script serves the starter beside runner 0 (mode "jobs") and the stop Job of either mode.
      data: { ...runnerConfigs, [STARTER_SCRIPT_KEY]: starterScript() },
    });

    if (t.mode === 'operator') {
      this.testRun = this.buildTestRun();
      this.buildOperatorNetworkPolicies();
      return;
    }

    new k8s.KubeServiceAccount(this, 'RunnerServiceAccount', {
      metadata: this.meta(`${this.runId}-runner`, 'runner'),
      automountServiceAccountToken: false,
    });
    this.service = new k8s.KubeService(this, 'Service', {
      metadata: this.meta(this.runId, 'runner'),
      spec: {
        clusterIp: 'None',
        // DNS names exist before readiness: the starter checks readiness itself.
        publishNotReadyAddresses: true,
        selector: this.podLabels('runner'),
        ports: [{ name: 'k6-api', port: K6_API_PORT, targetPort: k8s.IntOrString.fromNumber(K6_API_PORT), protocol: 'TCP' }],
      },
    });

    if (t.schedule !== undefined) {
      this.cronJob = this.buildCronJob(t.schedule);
    } else {
      this.runnerJob = new k8s.KubeJob(this, 'Runners', {
        metadata: this.meta(`${this.runId}-runner`, 'runner'),
        spec: this.runnerJobSpec(false),
      });
    }
    this.buildJobsNetworkPolicies();
  }

  /** The runner base URLs (`http://<job>-<i>.<service>.<ns>.svc:6565`), runner 0 first. */
  public runnerUrls(jobName = `${this.runId}-runner`): string[] {
    const domain = this.namespace !== undefined ? `${this.runId}.${this.namespace}.svc` : this.runId;
    return executionSegments(this.test.parallelism).map((s) => `http://${jobName}-${s.index}.${domain}:${K6_API_PORT}`);
  }

  /**
   * The runners' REST API base URLs of a mode "operator" run: the k6-operator gives runner i (1..N) the Service
   * `<name>-service-<i>` on port 6565 (k6-operator v1.6.0 pkg/resources/jobs/runner.go NewRunnerService,
   * internal/controller/k6_create.go).
   */
  public operatorRunnerUrls(): string[] {
    const ns = this.namespace !== undefined ? `.${this.namespace}.svc` : '';
    return Array.from({ length: this.test.parallelism }, (_, i) => `http://${this.runId}-service-${i + 1}${ns}:${K6_API_PORT}`);
  }

  /**
   * The Job that stops this run (unscheduled runs of either mode): `loadtest run` applies it on Ctrl-C, and for an
   * operator run also when one runner failed (the operator would let the others run on). It asks every runner to stop
   * through k6's REST API (`PATCH /v1/status`, `stopped: true`) from inside the namespace, where the runners'
   * NetworkPolicy admits it; k6 then ends its iterations and flushes its metrics. Not part of the chart: applying the
   * synthesized manifests must never stop a run.
   */
  public stopJobManifest(): Record<string, unknown> {
    if (this.test.schedule !== undefined) {
      throw new Error(`LoadTest: test '${this.test.name}' has no stop Job (only unscheduled runs have one)`);
    }
    const urls = this.test.mode === 'operator' ? this.operatorRunnerUrls() : this.runnerUrls();
    return k8s.KubeJob.manifest({
      metadata: this.meta(`${this.runId}-stop`, STOPPER_COMPONENT),
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: 120,
        ttlSecondsAfterFinished: 600,
        template: {
          metadata: { labels: this.podLabels(STOPPER_COMPONENT) },
          spec: {
            // The runners' ServiceAccount: no token, no RBAC; the stop needs neither.
            ...this.podBase(`${this.runId}-runner`),
            restartPolicy: 'Never',
            containers: [this.starterContainer(starterCommand(urls, { stop: true }), STARTER_UID)],
            volumes: [this.starterVolume()],
            ...(this.test.imagePullSecrets.length > 0 ? { imagePullSecrets: this.test.imagePullSecrets.map((name) => ({ name })) } : {}),
          },
        },
      },
    }) as Record<string, unknown>;
  }

  // -------------------------------------------------------------------------------------------------------------
  // k6 configuration
  // -------------------------------------------------------------------------------------------------------------

  /**
   * k6 arguments (a list, never through a shell); `$(VAR)` references are expanded by the kubelet.
   *
   * - `--no-thresholds`: a runner sees only its execution segment, so its own judgement means nothing and its exit code
   *   99 would fail the whole Job; the platform judges the thresholds over all runners instead.
   * - `--out` and its value are two tokens: the k6-operator's argument filter drops only the separate form.
   * - `--tag` replaces the script's `options.tags` wholesale (k6 v1.7.1 lib/options.go `Apply`: RunTags), so the run
   *   tags come after the script's own tags, which are repeated here.
   */
  private k6Args(runIdRef: string, configFile: string): string[] {
    const t = this.test;
    return [
      'run',
      '--quiet',
      '--no-thresholds',
      '--paused',
      `--address=0.0.0.0:${K6_API_PORT}`,
      `--execution-segment-sequence=${executionSegmentSequence(t.parallelism)}`,
      `--config=${RUN_CONFIG_MOUNT_PATH}/${configFile}`,
      '--out',
      'experimental-prometheus-rw',
      ...this.scriptTagArgs(),
      '--tag',
      `testid=${runIdRef}`,
      '--tag',
      `${TEST_TAG}=${t.name}`,
      '--tag',
      `instance_id=$(${RUNNER_INDEX_ENV})`,
      ...t.extraArgs,
      `${SCRIPTS_MOUNT_PATH}/${this.props.scripts.files[0]!.path}`,
    ];
  }

  /**
   * The script's own `options.tags` as `--tag name=value` flags. Empty values are left out (k6 refuses `--tag name=`,
   * internal/cmd/options.go parseTagNameValue, and drops empty tags from samples anyway); `$` is doubled because the
   * kubelet expands `$(VAR)` in container args.
   */
  private scriptTagArgs(): string[] {
    return Object.entries(this.scriptTags)
      .filter(([, v]) => v !== '')
      .flatMap(([k, v]) => ['--tag', `${k}=${v}`.replaceAll('$', '$$$$')]);
  }

  /** Environment of a runner: Prometheus output, credentials from Secrets, the test's env. */
  private k6Env(): k8s.EnvVar[] {
    const r = this.props.runner ?? {};
    const t = this.test;
    const native = r.nativeHistograms ?? true;
    const env: k8s.EnvVar[] = [
      { name: 'K6_PROMETHEUS_RW_SERVER_URL', value: this.props.remoteWriteUrl },
      { name: 'K6_PROMETHEUS_RW_PUSH_INTERVAL', value: r.pushInterval ?? '5s' },
      // k6 v1.7.1 reads this variable alone (internal/output/prometheusrw/remotewrite/config.go); it has no K6_FEATURES.
      { name: 'K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM', value: String(native) },
      ...(native ? [] : [{ name: 'K6_PROMETHEUS_RW_TREND_STATS', value: classicTrendStats(this.thresholds).join(',') }]),
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
    for (const [name, value] of Object.entries(t.env)) env.push({ name, value });
    for (const [name, ref] of Object.entries(t.secretEnv)) env.push(secretEnv(name, ref));
    return env;
  }

  private envFrom(): k8s.EnvFromSource[] {
    return this.test.envFrom.map((e) => ({
      ...(e.prefix !== undefined ? { prefix: e.prefix } : {}),
      ...(e.configMap !== undefined ? { configMapRef: { name: e.configMap } } : { secretRef: { name: e.secret! } }),
    }));
  }

  // -------------------------------------------------------------------------------------------------------------
  // mode "jobs"
  // -------------------------------------------------------------------------------------------------------------

  private runnerJobSpec(scheduled: boolean): k8s.JobSpec {
    const t = this.test;
    const runIdRef = scheduled ? `$(${RUN_ID_ENV})` : this.runId;
    const k6: k8s.Container = {
      name: K6_CONTAINER,
      image: this.image,
      command: ['k6'],
      args: this.k6Args(runIdRef, `runner-$(${RUNNER_INDEX_ENV}).json`),
      env: [
        { name: RUNNER_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } },
        scheduled
          ? { name: RUN_ID_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_NAME_LABEL}']` } } }
          : { name: RUN_ID_ENV, value: this.runId },
        ...this.k6Env(),
      ],
      ...(t.envFrom.length > 0 ? { envFrom: this.envFrom() } : {}),
      ports: [{ name: 'k6-api', containerPort: K6_API_PORT, protocol: 'TCP' }],
      readinessProbe: {
        httpGet: { path: '/v1/status', port: k8s.IntOrString.fromNumber(K6_API_PORT) },
        periodSeconds: 2,
        failureThreshold: 3,
      },
      resources: toResources(t.resources ?? this.props.runner?.resources),
      securityContext: containerSecurity(RUNNER_UID),
      volumeMounts: [
        { name: 'scripts', mountPath: SCRIPTS_MOUNT_PATH, readOnly: true },
        { name: 'run-config', mountPath: RUN_CONFIG_MOUNT_PATH, readOnly: true },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    };
    const containers: k8s.Container[] = [k6];
    const volumes: k8s.Volume[] = [
      this.scriptsVolume(),
      {
        name: 'run-config',
        configMap: {
          name: this.configMap.name,
          items: executionSegments(t.parallelism).map((s) => ({ key: runnerConfigKey(s.index), path: runnerConfigKey(s.index) })),
        },
      },
      { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString(TMP_SIZE_LIMIT) } },
    ];
    // The starter runs beside runner 0 (it exits at once in the other pods). Runner 0 is reached on loopback, the
    // others by their DNS names under the headless Service, derived from the Job name (each scheduled run has its own).
    const jobRef = '$(K6_PLATFORM_JOB_NAME)';
    const [, ...others] = this.runnerUrls(jobRef);
    containers.push({
      ...this.starterContainer(starterCommand([`http://127.0.0.1:${K6_API_PORT}`, ...others]), RUNNER_UID),
      env: [
        { name: 'K6_PLATFORM_JOB_NAME', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_NAME_LABEL}']` } } },
        { name: 'RUNNER_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } },
        { name: 'START_TIMEOUT_SECONDS', value: String(k6DurationSeconds(t.startTimeout)) },
        { name: 'SETUP_ONCE', value: String(t.setupOnce) },
        { name: 'STATE_DIR', value: '/tmp' },
      ],
      // Ready once every runner is resumed: the CLI reads "started" from this container's readiness.
      readinessProbe: { exec: { command: ['cat', `/tmp/${STARTER_STARTED_FILE}`] }, periodSeconds: 2, failureThreshold: 1 },
      volumeMounts: [
        { name: 'starter', mountPath: STARTER_MOUNT_PATH, readOnly: true },
        { name: 'starter-tmp', mountPath: '/tmp' },
      ],
    });
    volumes.push(this.starterVolume(), { name: 'starter-tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString(STARTER_TMP_SIZE_LIMIT) } });
    return {
      completionMode: 'Indexed',
      completions: t.parallelism,
      parallelism: t.parallelism,
      // A retried runner would add load and restart its segment: never retry, fail the whole run. Runners never exit
      // 99 (`--no-thresholds`), so a non-zero exit of any container is a real failure: a crash, an OOM kill, a script
      // error (k6 107), a failed setup or start (the starter), a REST stop (k6 103); so is a disruption (eviction,
      // preemption).
      backoffLimit: 0,
      podFailurePolicy: {
        rules: [
          { action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [0] }, onPodConditions: [] },
          { action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      ...(this.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: this.activeDeadlineSeconds } : {}),
      ttlSecondsAfterFinished: t.ttlSecondsAfterFinished,
      template: {
        metadata: { labels: this.podLabels('runner') },
        spec: {
          ...this.podBase(`${this.runId}-runner`),
          restartPolicy: 'Never',
          subdomain: this.runId,
          // With setup once, runner 0's k6 lingers after its run (for teardown()) until the starter beside it ends it
          // with a signal, which needs one process namespace (and the same uid) for both containers.
          ...(t.setupOnce ? { shareProcessNamespace: true } : {}),
          containers,
          volumes,
          ...this.placement(),
        },
      },
    };
  }

  private buildCronJob(schedule: string): k8s.KubeCronJob {
    const t = this.test;
    return new k8s.KubeCronJob(this, 'Schedule', {
      metadata: this.meta(this.runId, 'runner'),
      spec: {
        schedule,
        ...(t.timeZone !== undefined ? { timeZone: t.timeZone } : {}),
        concurrencyPolicy: 'Forbid',
        // A run that could not start within 5 minutes of its time is skipped, not started late.
        startingDeadlineSeconds: 300,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: { metadata: { labels: this.podLabels('runner') }, spec: this.runnerJobSpec(true) },
      },
    });
  }

  private starterContainer(cmd: { command: string[]; args: string[] }, uid: number): k8s.Container {
    return {
      name: STARTER_CONTAINER,
      image: this.props.starterImage ?? versions.starterImage,
      command: cmd.command,
      args: cmd.args,
      resources: toResources(STARTER_RESOURCES),
      securityContext: containerSecurity(uid),
      volumeMounts: [{ name: 'starter', mountPath: STARTER_MOUNT_PATH, readOnly: true }],
    };
  }

  private starterVolume(): k8s.Volume {
    return { name: 'starter', configMap: { name: this.configMap.name, items: [{ key: STARTER_SCRIPT_KEY, path: STARTER_SCRIPT_KEY }] } };
  }

  private scriptsVolume(): k8s.Volume {
    const items = Object.entries(this.props.scripts.volumeItems).map(([key, m]) => ({ key, path: m.path }));
    return { name: 'scripts', configMap: { name: this.props.scripts.configMap.name, items } };
  }

  /**
   * Runners accept k6 REST API calls from each other (the starter beside runner 0) and from the stop Job, and send
   * them to each other; the stop Job reaches DNS and the runners' API only.
   */
  private buildJobsNetworkPolicies(): void {
    const runners = { podSelector: { matchLabels: this.podLabels('runner') } };
    const api = [{ port: k8s.IntOrString.fromNumber(K6_API_PORT), protocol: 'TCP' }];
    new k8s.KubeNetworkPolicy(this, 'RunnerPolicy', {
      metadata: this.meta(`${this.runId}-runner`, 'runner'),
      spec: {
        podSelector: { matchLabels: this.podLabels('runner') },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [runners, { podSelector: { matchLabels: this.podLabels(STOPPER_COMPONENT) } }], ports: api }],
        egress: [
          dnsEgress(this.props.network),
          ...this.prometheusEgress(),
          ...this.test.targets.map((target) => targetEgress(target, this.props.network)),
          { to: [runners], ports: api },
        ],
      },
    });
    if (this.test.schedule === undefined) this.clientNetworkPolicy(STOPPER_COMPONENT, 'StopperPolicy');
  }

  // -------------------------------------------------------------------------------------------------------------
  // mode "operator"
  // -------------------------------------------------------------------------------------------------------------

  private buildTestRun(): TestRun {
    const t = this.test;
    const scripts = this.props.scripts;
    const entry = scripts.files[0]!;
    // The operator mounts a script ConfigMap flat at /test, which breaks relative imports of nested files; such
    // bundles are mounted with their directory layout and run as a local file instead.
    const flat = scripts.files.every((f) => !f.path.includes('/'));
    const volumes: TestRunSpecRunnerVolumes[] = [
      { name: 'run-config', configMap: { name: this.configMap.name, items: [{ key: 'runner.json', path: 'runner.json' }] } },
      { name: 'tmp', emptyDir: { sizeLimit: TestRunSpecRunnerVolumesEmptyDirSizeLimit.fromString(TMP_SIZE_LIMIT) } },
      ...(flat
        ? []
        : [
            {
              name: 'scripts',
              configMap: { name: scripts.configMap.name, items: Object.entries(scripts.volumeItems).map(([key, m]) => ({ key, path: m.path })) },
            },
          ]),
    ];
    const volumeMounts = [
      { name: 'run-config', mountPath: RUN_CONFIG_MOUNT_PATH, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      ...(flat ? [] : [{ name: 'scripts', mountPath: SCRIPTS_MOUNT_PATH, readOnly: true }]),
    ];
    const r = t.resources ?? this.props.runner?.resources;
    const resources: TestRunSpecRunnerResources | undefined =
      r === undefined
        ? undefined
        : {
            limits: quantityMap(r.limits, TestRunSpecRunnerResourcesLimits.fromString),
            requests: quantityMap(r.requests, TestRunSpecRunnerResourcesRequests.fromString),
          };
    const pod = (component: string, uid: number): TestRunSpecRunner => ({
      metadata: { labels: this.podLabels(component) },
      serviceAccountName: `${this.runId}-${component === 'starter' ? 'starter' : 'runner'}`,
      automountServiceAccountToken: 'false',
      securityContext: podSecurity(),
      containerSecurityContext: containerSecurity(uid),
      ...(t.imagePullSecrets.length > 0 ? { imagePullSecrets: t.imagePullSecrets.map((name) => ({ name })) } : {}),
    });
    const placement = this.placement() as Pick<TestRunSpecRunner, 'nodeSelector' | 'tolerations' | 'affinity'>;
    const toEnv = (env: k8s.EnvVar[]) =>
      env.map((e) => JSON.parse(JSON.stringify(k8s.toJson_EnvVar(e))) as NonNullable<TestRunSpecRunner['env']>[number]);
    const k6Pod = (component: string, env: k8s.EnvVar[], envFrom: k8s.EnvFromSource[]): TestRunSpecRunner => ({
      ...pod(component, RUNNER_UID),
      image: this.image,
      env: toEnv(env),
      ...(envFrom.length > 0 ? { envFrom } : {}),
      ...(resources !== undefined ? { resources } : {}),
      volumes,
      volumeMounts,
      ...placement,
    });
    // The initializer runs `k6 archive <script> -e NAME=$(NAME)... <filtered args>` and `k6 inspect
    // --execution-requirements` on the archive (k6-operator v1.6.0 pkg/resources/jobs/initializer.go): it evaluates the
    // script's init code and options, sends no metrics and makes no requests but remote-module imports. So it gets the
    // test's literal env (the script's __ENV and K6_* option variables, which k6 consolidates into the options) and the
    // runner count, and envFrom ConfigMaps (K6_* option variables); never the remote-write credentials or
    // secretEnv/envFrom Secrets: every env entry is passed as `-e` and so written into the archive in /tmp.
    const initializerEnv: k8s.EnvVar[] = [
      { name: RUNNER_COUNT_ENV, value: String(t.parallelism) },
      ...Object.entries(t.env).map(([name, value]) => ({ name, value })),
    ];
    const initializerEnvFrom = this.envFrom().filter((e) => e.configMapRef !== undefined);
    for (const component of ['runner', 'starter']) {
      new k8s.KubeServiceAccount(this, `${component === 'runner' ? 'Runner' : 'Starter'}ServiceAccount`, {
        metadata: this.meta(`${this.runId}-${component}`, component),
        automountServiceAccountToken: false,
      });
    }
    return new TestRun(this, 'TestRun', {
      metadata: this.meta(this.runId, 'test-run'),
      spec: {
        parallelism: t.parallelism,
        script: flat ? { configMap: { name: scripts.configMap.name, file: entry.key } } : { localFile: `${SCRIPTS_MOUNT_PATH}/${entry.path}` },
        args: this.operatorK6Args(),
        separate: t.operator.separate,
        ...(t.operator.cleanup ? { cleanup: TestRunSpecCleanup.POST } : {}),
        runner: k6Pod('runner', this.k6Env(), this.envFrom()),
        initializer: k6Pod('initializer', initializerEnv, initializerEnvFrom),
        starter: { ...pod('starter', STARTER_UID), image: this.props.starterImage ?? versions.starterImage, resources: testRunStarterResources() },
      },
    });
  }

  /**
   * `spec.args` of the TestRun. The operator's runners get them unchanged, after its own `k6 run --quiet`, the execution
   * segments, and before the script, `--address`, `--paused` and the `instance_id`/`testrun_name` tags (k6-operator
   * v1.6.0 pkg/resources/jobs/runner.go NewRunnerJob). Its initializer runs `k6 archive` with them filtered by
   * pkg/types/k6cli.go ParseCLI, which drops a separate `--out`/`-o` token and its value but keeps `--out=x`, which
   * `k6 archive` rejects ("unknown flag: --out"). So the output is two tokens, as in the jobs form; K6_OUT in the runner
   * env would work too, but it would hide the output from the runners' command line and from ParseCLI (which looks
   * for `--out cloud`). `--no-thresholds` and `--tag` are `k6 archive` flags (k6 v1.7.1 internal/cmd/archive.go adds
   * runtimeOptionFlagSet and optionFlagSet), so they pass the filter harmlessly. `--config` is a root flag of k6: the
   * initializer reads the same runner.json.
   */
  private operatorK6Args(): string[] {
    return [
      `--config=${RUN_CONFIG_MOUNT_PATH}/runner.json`,
      // The verdict over all runners judges the run; a runner judges only its segment.
      '--no-thresholds',
      '--out',
      'experimental-prometheus-rw',
      ...this.scriptTagArgs(),
      '--tag',
      `testid=${this.runId}`,
      '--tag',
      `${TEST_TAG}=${this.test.name}`,
      ...this.test.extraArgs,
    ];
  }

  /** The operator's starter. */
  private starterNetworkPolicy(): void {
    this.clientNetworkPolicy('starter', 'StarterPolicy');
  }

  /** A client of the runners' REST API (the operator's starter, the stop Job): nothing may reach it; it reaches DNS and the runners' API only. */
  private clientNetworkPolicy(component: string, id: string): void {
    new k8s.KubeNetworkPolicy(this, id, {
      metadata: this.meta(`${this.runId}-${component}`, component),
      spec: {
        podSelector: { matchLabels: this.podLabels(component) },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [],
        egress: [
          dnsEgress(this.props.network),
          {
            to: [{ podSelector: { matchLabels: this.podLabels('runner') } }],
            ports: [{ port: k8s.IntOrString.fromNumber(K6_API_PORT), protocol: 'TCP' }],
          },
        ],
      },
    });
  }

  private buildOperatorNetworkPolicies(): void {
    const api = [{ port: k8s.IntOrString.fromNumber(K6_API_PORT), protocol: 'TCP' }];
    new k8s.KubeNetworkPolicy(this, 'RunnerPolicy', {
      metadata: this.meta(`${this.runId}-runner`, 'runner'),
      spec: {
        podSelector: { matchLabels: this.podLabels('runner') },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            // the operator's starter resumes runners; the operator controller polls their status; the stop Job of
            // `loadtest run` stops them
            from: [
              { podSelector: { matchLabels: this.podLabels('starter') } },
              { podSelector: { matchLabels: this.podLabels(STOPPER_COMPONENT) } },
              { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': this.test.operator.namespace } } },
            ],
            ports: api,
          },
        ],
        egress: [
          dnsEgress(this.props.network),
          ...this.prometheusEgress(),
          ...this.test.targets.map((target) => targetEgress(target, this.props.network)),
        ],
      },
    });
    this.starterNetworkPolicy();
    this.clientNetworkPolicy(STOPPER_COMPONENT, 'StopperPolicy');
    new k8s.KubeNetworkPolicy(this, 'InitializerPolicy', {
      metadata: this.meta(`${this.runId}-initializer`, 'initializer'),
      spec: {
        podSelector: { matchLabels: this.podLabels('initializer') },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [],
        // `k6 archive` fetches remote modules the script imports from the declared targets
        egress: [dnsEgress(this.props.network), ...this.test.targets.map((target) => targetEgress(target, this.props.network))],
      },
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // shared pieces
  // -------------------------------------------------------------------------------------------------------------

  private meta(name: string, component: string): k8s.ObjectMeta {
    return {
      name,
      ...(this.namespace !== undefined ? { namespace: this.namespace } : {}),
      labels: { ...this.labels, [LABELS.component]: component },
    };
  }

  private podLabels(component: string): Record<string, string> {
    return { ...this.labels, [LABELS.component]: component };
  }

  private podBase(serviceAccountName: string): Partial<k8s.PodSpec> {
    return {
      serviceAccountName,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: podSecurity(),
    };
  }

  private placement(): Partial<k8s.PodSpec> {
    const t = this.test;
    const affinity = { ...((t.affinity ?? {}) as k8s.Affinity) };
    if (t.onePerNode) {
      const anti = affinity.podAntiAffinity ?? {};
      affinity.podAntiAffinity = {
        ...anti,
        requiredDuringSchedulingIgnoredDuringExecution: [
          ...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []),
          { labelSelector: { matchLabels: this.podLabels('runner') }, topologyKey: 'kubernetes.io/hostname' },
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

  private prometheusEgress(): k8s.NetworkPolicyEgressRule[] {
    const p = this.props.prometheus;
    if (p === undefined) return [];
    return [
      {
        to: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': p.namespace } }, podSelector: { matchLabels: { ...p.podLabels } } },
        ],
        ports: [{ port: k8s.IntOrString.fromNumber(p.port ?? 9090), protocol: 'TCP' }],
      },
    ];
  }
}

/**
 * Runner i's k6 config file (`--config`; k6 v1.7.1 internal/cmd/config.go reads options and `linger` from it). It holds
 * no thresholds: runners run with `--no-thresholds`. With setup once, no runner runs setup() or teardown() itself
 * (the starter runs them through runner 0's REST API), and runner 0 lingers after its run so that teardown() can run
 * once every runner has finished.
 */
export function runnerK6Config(executionSegment: string, index: number, setupOnce: boolean): Record<string, unknown> {
  return { executionSegment, ...(setupOnce ? { noSetup: true, noTeardown: true, ...(index === 0 ? { linger: true } : {}) } : {}) };
}

/** ConfigMap key of runner i's k6 config. */
export function runnerConfigKey(index: number): string {
  return `runner-${index}.json`;
}

/** `<name>-<hash>` (prefixed with "r" when the name starts with a digit: run ids name Services, which start with a letter). */
function defaultRunId(t: TestConfig, props: LoadTestProps, image: string): string {
  const h = createHash('sha256')
    .update(
      JSON.stringify({
        t,
        scripts: props.scripts.hash,
        image,
        url: props.remoteWriteUrl,
        runner: props.runner ?? {},
        starter: props.starterImage ?? '',
      }),
    )
    .digest('hex')
    .slice(0, 6);
  return `${/^[0-9]/.test(t.name) ? 'r' : ''}${t.name}-${h}`;
}

function podSecurity(): k8s.PodSecurityContext {
  return { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
}

function containerSecurity(uid: number): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** A requests or limits map as quantities of the type `make` builds (cdk8s-plus or an imported CRD's), unset entries dropped. */
function quantityMap<T>(l: Readonly<Record<string, string | undefined>> | undefined, make: (v: string) => T): Record<string, T> | undefined {
  return l === undefined ? undefined : Object.fromEntries(Object.entries(l).flatMap(([k, v]) => (v === undefined ? [] : [[k, make(v)]])));
}

function toResources(r: ResourceRequirements | undefined): k8s.ResourceRequirements | undefined {
  if (r === undefined) return undefined;
  const requests = quantityMap(r.requests, k8s.Quantity.fromString);
  const limits = quantityMap(r.limits, k8s.Quantity.fromString);
  return { ...(requests !== undefined ? { requests } : {}), ...(limits !== undefined ? { limits } : {}) };
}

/** {@link STARTER_RESOURCES} as the TestRun CRD types them (without it the operator uses 50m/2Mi requests, 100m/200Mi limits). */
function testRunStarterResources(): TestRunSpecStarterResources {
  return {
    requests: quantityMap(STARTER_RESOURCES.requests, TestRunSpecStarterResourcesRequests.fromString),
    limits: quantityMap(STARTER_RESOURCES.limits, TestRunSpecStarterResourcesLimits.fromString),
  };
}

function secretEnv(name: string, ref: { readonly name: string; readonly key: string }): k8s.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } };
}

/** DNS to the cluster DNS pods only (network-rules.ts: the same rule as every platform pod). */
function dnsEgress(network?: NetworkRules): k8s.NetworkPolicyEgressRule {
  return dnsEgressRule(network);
}

/**
 * A declared target: an IP block (network-rules.ts: link-local and loopback always left out, the cluster's own ranges
 * left out unless the block names them), or pods of an in-cluster namespace.
 */
function targetEgress(t: EgressTarget, network?: NetworkRules): k8s.NetworkPolicyEgressRule {
  const peer: k8s.NetworkPolicyPeer =
    t.cidr !== undefined
      ? { ipBlock: ipBlock(t.cidr, t.except ?? [], network) }
      : {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': t.namespace! } },
          ...(t.podLabels !== undefined ? { podSelector: { matchLabels: t.podLabels } } : {}),
        };
  return { to: [peer], ports: t.ports.map((port) => ({ port: k8s.IntOrString.fromNumber(port), protocol: t.protocol })) };
}
