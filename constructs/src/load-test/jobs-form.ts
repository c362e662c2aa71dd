import { k8s } from 'cdk8s-plus-27';
import { K6_API_PORT, RUN_ID_ENV, RUNNER_INDEX_ENV } from '../contract/k6';
import { k6DurationSeconds } from '../config/platform-config';
import { STARTER_MOUNT_PATH, STARTER_STARTED_FILE, starterCommand } from '../k6/starter';
import { SCRIPTS_MOUNT_PATH } from './test-scripts';
import {
  COMPLETION_INDEX_ANNOTATION,
  JOB_NAME_LABEL,
  K6_CONTAINER,
  RUN_CONFIG_MOUNT_PATH,
  RUNNER_UID,
  START_COMPONENT,
  STARTER_TMP_SIZE_LIMIT,
  STOPPER_COMPONENT,
  TEST_TAG,
  ZONE_TAG,
} from './constants';
import { browserEnv, browserMounts, browserVolumes, tmpSizeLimit } from './browser';
import { abortWatchEnv } from './abort-watch';
import { backendPodVolumes, backendVolumeMounts } from '../backend/runner-backend';
import { containerSecurity, toResources } from './resources';
import { dataInitContainers, dataMounts, dataVolume, type TestDataInputs } from './test-data';
import { runnerConfigKey } from './runner-config';
import {
  clientNetworkPolicy,
  dnsEgress,
  envFrom,
  k6Env,
  meta,
  placement,
  podBase,
  podLabels,
  prometheusEgress,
  runnerSegments,
  runnerSequence,
  runnerUrls,
  scriptTagArgs,
  starterContainer,
  starterVolume,
  targetEgress,
  type RunContext,
} from './run-context';

/** The objects of a mode "jobs" run: the runners' ServiceAccount, the headless Service, and the Indexed Job or CronJob. */
export interface JobsForm {
  /** The headless Service giving runners stable DNS names. */
  readonly service: k8s.KubeService;
  /** The runners' Indexed Job (no schedule). */
  readonly runnerJob?: k8s.KubeJob;
  /** The CronJob (with a schedule). */
  readonly cronJob?: k8s.KubeCronJob;
}

/** Creates the mode "jobs" objects of the run in `ctx.scope`, NetworkPolicies included. */
export function buildJobsForm(ctx: RunContext): JobsForm {
  new k8s.KubeServiceAccount(ctx.scope, 'RunnerServiceAccount', {
    metadata: meta(ctx, `${ctx.runId}-runner`, 'runner'),
    automountServiceAccountToken: false,
  });
  const service = new k8s.KubeService(ctx.scope, 'Service', {
    metadata: meta(ctx, ctx.runId, 'runner'),
    spec: {
      clusterIp: 'None',
      // DNS names exist before readiness: the starter checks readiness itself.
      publishNotReadyAddresses: true,
      selector: podLabels(ctx, 'runner'),
      ports: [{ name: 'k6-api', port: K6_API_PORT, targetPort: k8s.IntOrString.fromNumber(K6_API_PORT), protocol: 'TCP' }],
    },
  });
  const schedule = ctx.test.schedule;
  const form: JobsForm =
    schedule !== undefined
      ? { service, cronJob: buildCronJob(ctx, schedule) }
      : {
          service,
          runnerJob: new RunnerJob(
            ctx.scope,
            'Runners',
            { metadata: meta(ctx, `${ctx.runId}-runner`, 'runner'), spec: runnerJobSpec(ctx, false) },
            imageVolumes(ctx),
          ),
        };
  buildJobsNetworkPolicies(ctx);
  return form;
}

/**
 * k6 arguments (a list, never through a shell); `$(VAR)` references are expanded by the kubelet.
 *
 * - `--no-thresholds`: a runner sees only its execution segment, so its own judgement means nothing and its exit code
 *   99 would fail the whole Job; the platform judges the thresholds over all runners instead.
 * - `--out` and its value are two tokens: the k6-operator's argument filter drops only the separate form.
 * - `--tag` replaces the script's `options.tags` wholesale (k6 v1.7.1 lib/options.go `Apply`: RunTags), so the run
 *   tags come after the script's own tags, which are repeated here.
 * - A multi-cluster run's runners also carry `zone=<zone>`, and their `instance_id` is `<zone>-<index>`: completion
 *   indexes restart at 0 in every cluster, and the verdict counts runners by distinct `instance_id`.
 */
function k6Args(ctx: RunContext, runIdRef: string, configFile: string): string[] {
  const t = ctx.test;
  return [
    'run',
    '--quiet',
    '--no-thresholds',
    '--paused',
    `--address=0.0.0.0:${K6_API_PORT}`,
    `--execution-segment-sequence=${runnerSequence(ctx)}`,
    `--config=${RUN_CONFIG_MOUNT_PATH}/${configFile}`,
    '--out',
    'experimental-prometheus-rw',
    ...scriptTagArgs(ctx),
    '--tag',
    `testid=${runIdRef}`,
    '--tag',
    `${TEST_TAG}=${t.name}`,
    ...(ctx.shard !== undefined
      ? ['--tag', `${ZONE_TAG}=${ctx.shard.zone}`, '--tag', `instance_id=${ctx.shard.zone}-$(${RUNNER_INDEX_ENV})`]
      : ['--tag', `instance_id=$(${RUNNER_INDEX_ENV})`]),
    ...t.extraArgs,
    `${SCRIPTS_MOUNT_PATH}/${ctx.props.scripts.files[0]!.path}`,
  ];
}

/** The k6 container of a runner; a scheduled run reads its run id from the Job name. */
function k6Container(ctx: RunContext, scheduled: boolean): k8s.Container {
  const t = ctx.test;
  const runIdRef = scheduled ? `$(${RUN_ID_ENV})` : ctx.runId;
  return {
    name: K6_CONTAINER,
    image: ctx.image,
    command: ['k6'],
    args: k6Args(ctx, runIdRef, `runner-$(${RUNNER_INDEX_ENV}).json`),
    env: [
      { name: RUNNER_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } },
      scheduled
        ? { name: RUN_ID_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_NAME_LABEL}']` } } }
        : { name: RUN_ID_ENV, value: ctx.runId },
      ...k6Env(ctx),
      ...browserEnv(ctx),
    ],
    ...(t.envFrom.length > 0 ? { envFrom: envFrom(ctx) } : {}),
    ports: [{ name: 'k6-api', containerPort: K6_API_PORT, protocol: 'TCP' }],
    readinessProbe: {
      httpGet: { path: '/v1/status', port: k8s.IntOrString.fromNumber(K6_API_PORT) },
      periodSeconds: 2,
      failureThreshold: 3,
    },
    resources: toResources(t.resources ?? ctx.props.runner?.resources),
    securityContext: containerSecurity(RUNNER_UID),
    volumeMounts: [
      { name: 'scripts', mountPath: SCRIPTS_MOUNT_PATH, readOnly: true },
      ...dataMounts(dataInputs(ctx)),
      { name: 'run-config', mountPath: RUN_CONFIG_MOUNT_PATH, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      ...browserMounts(ctx),
      ...(ctx.props.backend !== undefined ? backendVolumeMounts(ctx.props.backend) : []),
    ],
  };
}

/**
 * The starter beside each runner (it exits at once in all pods but runner 0's). Runner 0 is reached on loopback, the
 * others by their DNS names under the headless Service, derived from the Job name (each scheduled run has its own).
 */
function starterSidecar(ctx: RunContext): k8s.Container {
  const t = ctx.test;
  const jobRef = '$(K6_PLATFORM_JOB_NAME)';
  const [, ...others] = runnerUrls(ctx, jobRef);
  return {
    ...starterContainer(ctx, starterCommand([`http://127.0.0.1:${K6_API_PORT}`, ...others]), RUNNER_UID),
    env: [
      { name: 'K6_PLATFORM_JOB_NAME', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_NAME_LABEL}']` } } },
      { name: 'RUNNER_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } },
      { name: 'START_TIMEOUT_SECONDS', value: String(k6DurationSeconds(t.startTimeout)) },
      { name: 'SETUP_ONCE', value: String(t.setupOnce) },
      { name: 'STATE_DIR', value: '/tmp' },
      // A multi-cluster run: wait until ready (and run setup()), and leave the resume to the start Job.
      ...(ctx.shard !== undefined ? [{ name: 'START_GATE', value: 'external' }] : []),
      ...abortWatchEnv(ctx, jobRef),
    ],
    // Ready once every runner is resumed: the CLI reads "started" from this container's readiness.
    readinessProbe: { exec: { command: ['cat', `/tmp/${STARTER_STARTED_FILE}`] }, periodSeconds: 2, failureThreshold: 1 },
    volumeMounts: [
      { name: 'starter', mountPath: STARTER_MOUNT_PATH, readOnly: true },
      { name: 'starter-tmp', mountPath: '/tmp' },
    ],
  };
}

/** What the run's data volume is made from (`tests[].data`). */
function dataInputs(ctx: RunContext): TestDataInputs {
  const s = ctx.props.scripts;
  return {
    dataFiles: s.dataFiles,
    ...(s.data !== undefined ? { data: s.data } : {}),
    ...(ctx.props.dataImage !== undefined ? { dataImage: ctx.props.dataImage } : {}),
  };
}

/**
 * An image volume (`volumes[].image`, core/v1 since Kubernetes 1.31) is newer than the typed classes of cdk8s-plus-27,
 * whose Job and CronJob re-type their JSON on synth (after any JSON patch) and so would drop it: these add it to the
 * pod template's volumes after that.
 */
function imageVolumes(ctx: RunContext): object[] {
  const volume = dataVolume(dataInputs(ctx));
  return volume !== undefined && 'image' in volume ? [volume] : [];
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The runners' Indexed Job, with the volumes the typed classes cannot hold. */
class RunnerJob extends k8s.KubeJob {
  public constructor(
    scope: RunContext['scope'],
    id: string,
    props: k8s.KubeJobProps,
    private readonly extraVolumes: readonly object[],
  ) {
    super(scope, id, props);
  }

  public override toJson(): Json {
    const json = super.toJson() as Json;
    if (this.extraVolumes.length > 0) json.spec.template.spec.volumes.push(...this.extraVolumes);
    return json;
  }
}

/** The CronJob of a scheduled test, with the volumes the typed classes cannot hold. */
class RunnerCronJob extends k8s.KubeCronJob {
  public constructor(
    scope: RunContext['scope'],
    id: string,
    props: k8s.KubeCronJobProps,
    private readonly extraVolumes: readonly object[],
  ) {
    super(scope, id, props);
  }

  public override toJson(): Json {
    const json = super.toJson() as Json;
    if (this.extraVolumes.length > 0) json.spec.jobTemplate.spec.template.spec.volumes.push(...this.extraVolumes);
    return json;
  }
}

/** The data volume as a cdk8s-plus Volume: a PVC or an emptyDir (an image volume is patched in, see addImageVolume). */
function typedDataVolume(ctx: RunContext): k8s.Volume[] {
  const v = dataVolume(dataInputs(ctx));
  if (v === undefined || 'image' in v) return [];
  if ('persistentVolumeClaim' in v) return [{ name: v.name, persistentVolumeClaim: { ...v.persistentVolumeClaim } }];
  return [{ name: v.name, emptyDir: { sizeLimit: k8s.Quantity.fromString(v.emptyDir.sizeLimit) } }];
}

/** The volumes of a runner pod: scripts, its own k6 config file, /tmp, and the starter's script and state. */
function runnerVolumes(ctx: RunContext): k8s.Volume[] {
  return [
    { name: 'scripts', ...(ctx.props.scripts.volumeSource as Pick<k8s.Volume, 'configMap' | 'projected'>) },
    ...typedDataVolume(ctx),
    {
      name: 'run-config',
      configMap: {
        name: ctx.configMap.name,
        items: runnerSegments(ctx).map((_, i) => ({ key: runnerConfigKey(i), path: runnerConfigKey(i) })),
      },
    },
    { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString(tmpSizeLimit(ctx)) } },
    ...browserVolumes(ctx).map((v) => ({
      name: v.name,
      emptyDir: { ...(v.medium !== undefined ? { medium: v.medium } : {}), sizeLimit: k8s.Quantity.fromString(v.sizeLimit) },
    })),
    ...(ctx.props.backend !== undefined ? backendPodVolumes(ctx.props.backend) : []),
    starterVolume(ctx),
    { name: 'starter-tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString(STARTER_TMP_SIZE_LIMIT) } },
  ];
}

/** The Indexed Job spec of the runners (also the CronJob's job template). */
function runnerJobSpec(ctx: RunContext, scheduled: boolean): k8s.JobSpec {
  const t = ctx.test;
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
    ...(ctx.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: ctx.activeDeadlineSeconds } : {}),
    ttlSecondsAfterFinished: t.ttlSecondsAfterFinished,
    template: {
      metadata: { labels: podLabels(ctx, 'runner') },
      spec: {
        ...podBase(`${ctx.runId}-runner`),
        restartPolicy: 'Never',
        subdomain: ctx.runId,
        // With setup once, runner 0's k6 lingers after its run (for teardown()) until the starter beside it ends it
        // with a signal, which needs one process namespace (and the same uid) for both containers.
        ...(t.setupOnce ? { shareProcessNamespace: true } : {}),
        ...initContainers(ctx),
        containers: [k6Container(ctx, scheduled), starterSidecar(ctx)],
        volumes: runnerVolumes(ctx),
        ...placement(ctx),
      },
    },
  };
}

/** The init containers of a runner pod: the data copy of mode "image" (none otherwise). */
function initContainers(ctx: RunContext): Pick<k8s.PodSpec, 'initContainers'> {
  const copy = dataInitContainers(dataInputs(ctx));
  if (copy.length === 0) return {};
  return {
    initContainers: copy.map((c) => ({
      ...c,
      command: [...c.command],
      volumeMounts: [...c.volumeMounts],
      resources: toResources(c.resources),
    })),
  };
}

function buildCronJob(ctx: RunContext, schedule: string): k8s.KubeCronJob {
  const t = ctx.test;
  return new RunnerCronJob(
    ctx.scope,
    'Schedule',
    {
      metadata: meta(ctx, ctx.runId, 'runner'),
      spec: {
        schedule,
        ...(t.timeZone !== undefined ? { timeZone: t.timeZone } : {}),
        concurrencyPolicy: 'Forbid',
        // A run that could not start within 5 minutes of its time is skipped, not started late.
        startingDeadlineSeconds: 300,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: { metadata: { labels: podLabels(ctx, 'runner') }, spec: runnerJobSpec(ctx, true) },
      },
    },
    imageVolumes(ctx),
  );
}

/**
 * Runners accept k6 REST API calls from each other (the starter beside runner 0), from the stop Job and (a
 * multi-cluster run) from the start Job, and send them to each other; those Jobs reach DNS and the runners' API only.
 */
function buildJobsNetworkPolicies(ctx: RunContext): void {
  const runners = { podSelector: { matchLabels: podLabels(ctx, 'runner') } };
  const api = [{ port: k8s.IntOrString.fromNumber(K6_API_PORT), protocol: 'TCP' }];
  const clients = [STOPPER_COMPONENT, ...(ctx.shard !== undefined ? [START_COMPONENT] : [])];
  new k8s.KubeNetworkPolicy(ctx.scope, 'RunnerPolicy', {
    metadata: meta(ctx, `${ctx.runId}-runner`, 'runner'),
    spec: {
      podSelector: { matchLabels: podLabels(ctx, 'runner') },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [runners, ...clients.map((c) => ({ podSelector: { matchLabels: podLabels(ctx, c) } }))], ports: api }],
      egress: [
        dnsEgress(ctx.props.network),
        ...prometheusEgress(ctx),
        ...ctx.test.targets.map((target) => targetEgress(target, ctx.props.network)),
        { to: [runners], ports: api },
      ],
    },
  });
  if (ctx.test.schedule === undefined) clientNetworkPolicy(ctx, STOPPER_COMPONENT, 'StopperPolicy');
  if (ctx.shard !== undefined) clientNetworkPolicy(ctx, START_COMPONENT, 'StartPolicy');
}
