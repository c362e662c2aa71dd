import { k8s } from 'cdk8s-plus-27';
import {
  TestRun,
  TestRunSpecCleanup,
  TestRunSpecRunnerResourcesLimits,
  TestRunSpecRunnerResourcesRequests,
  TestRunSpecRunnerVolumesEmptyDirSizeLimit,
  TestRunSpecRunnerInitContainersResourcesLimits,
  TestRunSpecRunnerInitContainersResourcesRequests,
  type TestRunSpecRunnerInitContainers,
  type TestRunSpecRunner,
  type TestRunSpecRunnerResources,
  type TestRunSpecRunnerVolumes,
} from '../imports/k6.io';
import { K6_API_PORT, RUNNER_COUNT_ENV } from '../contract/k6';
import { versions } from '../contract/versions';
import { SCRIPTS_MOUNT_PATH } from './test-scripts';
import { RUN_CONFIG_MOUNT_PATH, RUNNER_UID, STARTER_UID, STOPPER_COMPONENT, TEST_TAG } from './constants';
import { browserEnv, browserMounts, browserVolumes, tmpSizeLimit } from './browser';
import { backendPodVolumes, backendVolumeMounts } from '../backend/runner-backend';
import { containerSecurity, podSecurity, quantityMap, testRunStarterResources } from './resources';
import { dataInitContainers, dataMounts, dataVolume, type TestDataInputs } from './test-data';
import {
  clientNetworkPolicy,
  dnsEgress,
  envFrom,
  k6Env,
  meta,
  placement,
  podLabels,
  prometheusEgress,
  scriptTagArgs,
  targetEgress,
  type RunContext,
} from './run-context';

/** Creates the mode "operator" objects of the run in `ctx.scope`: ServiceAccounts, the TestRun, NetworkPolicies. */
export function buildOperatorForm(ctx: RunContext): TestRun {
  const testRun = buildTestRun(ctx);
  buildOperatorNetworkPolicies(ctx);
  return testRun;
}

/**
 * The operator mounts one script ConfigMap flat at /test (k6-operator v1.6.0 pkg/types/script.go VolumeMount), which
 * breaks relative imports of nested files and cannot hold a bundle of several ConfigMaps or data files; such bundles
 * are mounted with their directory layout (one projected volume) and run as a local file instead.
 */
function isFlat(ctx: RunContext): boolean {
  const s = ctx.props.scripts;
  return s.configMaps.length === 1 && s.dataFiles.length === 0 && s.files.every((f) => !f.path.includes('/'));
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

/** A plain core/v1 object as the CRD type that mirrors it (the CRD's schema is core/v1's, test/schemas.test.ts checks it). */
function asCrd<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * The data copy of mode "image" as TestRun init containers. The operator gives each one the pod's
 * `containerSecurityContext` and `imagePullPolicy` (k6-operator v1.6.0 pkg/resources/jobs/helpers.go getInitContainers,
 * used for the runners and the initializer alike), so the copy runs restricted like k6.
 */
function operatorInitContainers(ctx: RunContext): Pick<TestRunSpecRunner, 'initContainers'> {
  const copy = dataInitContainers(dataInputs(ctx)).map(({ securityContext: _restricted, resources, ...c }) => ({
    ...asCrd<Omit<TestRunSpecRunnerInitContainers, 'resources'>>(c),
    resources: {
      requests: quantityMap(resources.requests, TestRunSpecRunnerInitContainersResourcesRequests.fromString),
      limits: quantityMap(resources.limits, TestRunSpecRunnerInitContainersResourcesLimits.fromString),
    },
  }));
  return copy.length === 0 ? {} : { initContainers: copy };
}

/** Volumes and mounts of the operator's runners and initializer. */
function operatorVolumes(ctx: RunContext): Pick<TestRunSpecRunner, 'volumes' | 'volumeMounts'> {
  const flat = isFlat(ctx);
  const data = dataVolume(dataInputs(ctx));
  const volumes: TestRunSpecRunnerVolumes[] = [
    { name: 'run-config', configMap: { name: ctx.configMap.name, items: [{ key: 'runner.json', path: 'runner.json' }] } },
    { name: 'tmp', emptyDir: { sizeLimit: TestRunSpecRunnerVolumesEmptyDirSizeLimit.fromString(tmpSizeLimit(ctx)) } },
    ...browserVolumes(ctx).map((v) => ({
      name: v.name,
      emptyDir: {
        ...(v.medium !== undefined ? { medium: v.medium } : {}),
        sizeLimit: TestRunSpecRunnerVolumesEmptyDirSizeLimit.fromString(v.sizeLimit),
      },
    })),
    ...(ctx.props.backend !== undefined ? (backendPodVolumes(ctx.props.backend) as TestRunSpecRunnerVolumes[]) : []),
    ...(flat ? [] : [asCrd<TestRunSpecRunnerVolumes>({ name: 'scripts', ...ctx.props.scripts.volumeSource })]),
    ...(data === undefined
      ? []
      : 'emptyDir' in data
        ? [{ name: data.name, emptyDir: { sizeLimit: TestRunSpecRunnerVolumesEmptyDirSizeLimit.fromString(data.emptyDir.sizeLimit) } }]
        : [asCrd<TestRunSpecRunnerVolumes>(data)]),
  ];
  const volumeMounts = [
    { name: 'run-config', mountPath: RUN_CONFIG_MOUNT_PATH, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    ...browserMounts(ctx),
    ...(ctx.props.backend !== undefined ? backendVolumeMounts(ctx.props.backend) : []),
    ...(flat ? [] : [{ name: 'scripts', mountPath: SCRIPTS_MOUNT_PATH, readOnly: true }, ...dataMounts(dataInputs(ctx))]),
  ];
  return { volumes, volumeMounts };
}

/** The TestRun pod settings every component shares (labels, ServiceAccount, security contexts, pull Secrets). */
function operatorPod(ctx: RunContext, component: string, uid: number): TestRunSpecRunner {
  const t = ctx.test;
  return {
    metadata: { labels: podLabels(ctx, component) },
    serviceAccountName: `${ctx.runId}-${component === 'starter' ? 'starter' : 'runner'}`,
    automountServiceAccountToken: 'false',
    securityContext: podSecurity(),
    containerSecurityContext: containerSecurity(uid),
    ...(t.imagePullSecrets.length > 0 ? { imagePullSecrets: t.imagePullSecrets.map((name) => ({ name })) } : {}),
  };
}

/** A TestRun pod that runs k6 (runner or initializer) with `env` and `envFrom`. */
function k6Pod(ctx: RunContext, component: string, env: k8s.EnvVar[], from: k8s.EnvFromSource[]): TestRunSpecRunner {
  const r = ctx.test.resources ?? ctx.props.runner?.resources;
  const resources: TestRunSpecRunnerResources | undefined =
    r === undefined
      ? undefined
      : {
          limits: quantityMap(r.limits, TestRunSpecRunnerResourcesLimits.fromString),
          requests: quantityMap(r.requests, TestRunSpecRunnerResourcesRequests.fromString),
        };
  return {
    ...operatorPod(ctx, component, RUNNER_UID),
    image: ctx.image,
    env: env.map((e) => JSON.parse(JSON.stringify(k8s.toJson_EnvVar(e))) as NonNullable<TestRunSpecRunner['env']>[number]),
    ...(from.length > 0 ? { envFrom: from } : {}),
    ...(resources !== undefined ? { resources } : {}),
    ...operatorVolumes(ctx),
    ...operatorInitContainers(ctx),
    ...(placement(ctx) as Pick<TestRunSpecRunner, 'nodeSelector' | 'tolerations' | 'affinity'>),
  };
}

/**
 * The initializer runs `k6 archive <script> -e NAME=$(NAME)... <filtered args>` and `k6 inspect
 * --execution-requirements` on the archive (k6-operator v1.6.0 pkg/resources/jobs/initializer.go): it evaluates the
 * script's init code and options, sends no metrics and makes no requests but remote-module imports. So it gets the
 * test's literal env (the script's __ENV and K6_* option variables, which k6 consolidates into the options) and the
 * runner count, and envFrom ConfigMaps (K6_* option variables); never the remote-write credentials or
 * secretEnv/envFrom Secrets: every env entry is passed as `-e` and so written into the archive in /tmp.
 */
function initializerPod(ctx: RunContext): TestRunSpecRunner {
  const env: k8s.EnvVar[] = [
    { name: RUNNER_COUNT_ENV, value: String(ctx.test.parallelism) },
    ...Object.entries(ctx.test.env).map(([name, value]) => ({ name, value })),
  ];
  return k6Pod(
    ctx,
    'initializer',
    env,
    envFrom(ctx).filter((e) => e.configMapRef !== undefined),
  );
}

function buildTestRun(ctx: RunContext): TestRun {
  const t = ctx.test;
  const scripts = ctx.props.scripts;
  const entry = scripts.files[0]!;
  for (const component of ['runner', 'starter']) {
    new k8s.KubeServiceAccount(ctx.scope, `${component === 'runner' ? 'Runner' : 'Starter'}ServiceAccount`, {
      metadata: meta(ctx, `${ctx.runId}-${component}`, component),
      automountServiceAccountToken: false,
    });
  }
  return new TestRun(ctx.scope, 'TestRun', {
    metadata: meta(ctx, ctx.runId, 'test-run'),
    spec: {
      parallelism: t.parallelism,
      script: isFlat(ctx) ? { configMap: { name: scripts.configMap.name, file: entry.key } } : { localFile: `${SCRIPTS_MOUNT_PATH}/${entry.path}` },
      args: operatorK6Args(ctx),
      separate: t.operator.separate,
      ...(t.operator.cleanup ? { cleanup: TestRunSpecCleanup.POST } : {}),
      runner: k6Pod(ctx, 'runner', [...k6Env(ctx), ...browserEnv(ctx)], envFrom(ctx)),
      initializer: initializerPod(ctx),
      starter: {
        ...operatorPod(ctx, 'starter', STARTER_UID),
        image: ctx.props.starterImage ?? versions.starterImage,
        resources: testRunStarterResources(),
      },
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
function operatorK6Args(ctx: RunContext): string[] {
  return [
    `--config=${RUN_CONFIG_MOUNT_PATH}/runner.json`,
    // The verdict over all runners judges the run; a runner judges only its segment.
    '--no-thresholds',
    '--out',
    'experimental-prometheus-rw',
    ...scriptTagArgs(ctx),
    '--tag',
    `testid=${ctx.runId}`,
    '--tag',
    `${TEST_TAG}=${ctx.test.name}`,
    ...ctx.test.extraArgs,
  ];
}

function buildOperatorNetworkPolicies(ctx: RunContext): void {
  const api = [{ port: k8s.IntOrString.fromNumber(K6_API_PORT), protocol: 'TCP' }];
  const targets = ctx.test.targets.map((target) => targetEgress(target, ctx.props.network));
  new k8s.KubeNetworkPolicy(ctx.scope, 'RunnerPolicy', {
    metadata: meta(ctx, `${ctx.runId}-runner`, 'runner'),
    spec: {
      podSelector: { matchLabels: podLabels(ctx, 'runner') },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          // the operator's starter resumes runners; the operator controller polls their status; the stop Job of
          // `loadtest run` stops them
          from: [
            { podSelector: { matchLabels: podLabels(ctx, 'starter') } },
            { podSelector: { matchLabels: podLabels(ctx, STOPPER_COMPONENT) } },
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ctx.test.operator.namespace } } },
          ],
          ports: api,
        },
      ],
      egress: [dnsEgress(ctx.props.network), ...prometheusEgress(ctx), ...targets],
    },
  });
  // The operator's starter.
  clientNetworkPolicy(ctx, 'starter', 'StarterPolicy');
  clientNetworkPolicy(ctx, STOPPER_COMPONENT, 'StopperPolicy');
  new k8s.KubeNetworkPolicy(ctx.scope, 'InitializerPolicy', {
    metadata: meta(ctx, `${ctx.runId}-initializer`, 'initializer'),
    spec: {
      podSelector: { matchLabels: podLabels(ctx, 'initializer') },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      // `k6 archive` fetches remote modules the script imports from the declared targets
      egress: [dnsEgress(ctx.props.network), ...targets],
    },
  });
}
