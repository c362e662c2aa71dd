import { createHash } from 'node:crypto';
import { Chart, type ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { LABELS } from '../contract/labels';
import { describeIssues, k6DurationSeconds, testSchema, type TestConfig } from '../config/platform-config';
import { assertScriptOptionsReadable, judgedThresholds } from '../k6/script-options';
import { STARTER_SCRIPT_KEY, starterScript } from '../k6/starter';
import { defaultK6Image, k6BrowserImage } from '../contract/versions';
import { browserRunnerResources, importsBrowser } from './browser';
import type { ThresholdsConfig } from '../k6/thresholds';
import { DEFAULT_RUNNER_RESOURCES } from './constants';
import type { LoadTestProps } from './props';
import { runnerConfigKey, runnerK6Config } from './runner-config';
import { meta, operatorRunnerUrls, runnerSegments, runnerUrls, type RunContext } from './run-context';
import { checkShard } from './shard';
import { buildJobsForm } from './jobs-form';
import { scheduledAbortWatch } from './abort-watch';
import { ABORT_WATCH_KEY } from '../k6/abort-watch-file';
import { buildOperatorForm } from './operator-form';
import { startJobManifest, stopJobManifest } from './stop-job';

export {
  CLASSIC_TREND_STATS,
  COMPLETION_INDEX_ANNOTATION,
  DEFAULT_RUNNER_RESOURCES,
  K6_CONTAINER,
  RUN_CONFIG_MOUNT_PATH,
  RUNNER_UID,
  STARTER_CONTAINER,
  STARTER_RESOURCES,
  STARTER_UID,
  START_COMPONENT,
  STOPPER_COMPONENT,
  TEST_TAG,
  ZONE_TAG,
} from './constants';
export type { BrowserRunnerDefaults, LoadTestProps, PrometheusPeer, RunnerDefaults, RunShard } from './props';
export { runnerConfigKey, runnerK6Config } from './runner-config';
export { ZONE_NAME } from './shard';
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
  /**
   * The k6-operator TestRun (mode "operator"): a `k6.io/v1alpha1` TestRun built with the model cdk8s imports from the
   * operator's CRD (constructs/crds/), typed here as the ApiObject it is so the generated model stays out of the API.
   */
  public readonly testRun?: ApiObject;
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

  private readonly ctx: RunContext;

  public constructor(scope: Construct, id: string, props: LoadTestProps) {
    super(scope, id);
    const parsed = testSchema.safeParse(props.test, { reportInput: true });
    if (!parsed.success) {
      throw new Error(
        describeIssues(parsed.error, ['tests', 0], ['test'])
          .map((line) => `LoadTest: ${line}`)
          .join('\n'),
      );
    }
    // Every runner (and the operator's initializer, sized like one) gets requests and limits: the documented defaults
    // when neither the test nor the runner defaults set any.
    // Browser runners have their own defaults (runner.browser.resources): Chromium needs far more than k6 alone.
    const browser = importsBrowser(props.scripts);
    const runnerResources = browser ? browserRunnerResources(props.runner) : (props.runner?.resources ?? DEFAULT_RUNNER_RESOURCES);
    const resolved = { ...props, runner: { ...props.runner, resources: runnerResources } };
    const shard = props.shard;
    if (shard !== undefined) checkShard(parsed.data, shard);
    // In a multi-cluster run the runner Job here holds this cluster's runners only.
    const t = (this.test = shard !== undefined ? { ...parsed.data, parallelism: shard.segments.length } : parsed.data);
    // The script's thresholds and tags must be known here: runners do not judge, and `--tag` replaces options.tags.
    assertScriptOptionsReadable(props.scripts.options, props.scripts.files[0]?.path ?? t.script, `LoadTest: test '${t.name}'`);
    this.thresholds = judgedThresholds(t.thresholds, props.scripts.options.thresholds);
    this.scriptTags = props.scripts.options.tags ?? {};
    const namespace = Chart.of(this).namespace;
    this.image = props.image ?? (browser ? k6BrowserImage() : defaultK6Image);
    this.runId = t.runId ?? defaultRunId(t, props, this.image);
    this.labels = { [LABELS.test]: t.name, [LABELS.runId]: this.runId };
    if (t.duration !== undefined) {
      this.activeDeadlineSeconds = k6DurationSeconds(t.startTimeout) + k6DurationSeconds(t.duration) + k6DurationSeconds(t.gracePeriod);
    }
    const abortWatch = scheduledAbortWatch(t, props, this.thresholds);
    const base = {
      scope: this,
      test: t,
      props: resolved,
      runId: this.runId,
      labels: this.labels,
      image: this.image,
      ...(namespace !== undefined ? { namespace } : {}),
      thresholds: this.thresholds,
      scriptTags: this.scriptTags,
      ...(this.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: this.activeDeadlineSeconds } : {}),
      ...(abortWatch !== undefined ? { abortWatch } : {}),
      ...(shard !== undefined ? { shard } : {}),
    };
    this.configMap = new k8s.KubeConfigMap(this, 'Config', {
      metadata: meta(base, `${this.runId}-config`, 'run-config'),
      immutable: true,
      // The script serves the starter beside runner 0 (mode "jobs") and the stop Job of either mode.
      data: { ...runnerConfigs(base), [STARTER_SCRIPT_KEY]: starterScript(), ...(abortWatch !== undefined ? { [ABORT_WATCH_KEY]: abortWatch } : {}) },
    });
    this.ctx = { ...base, configMap: this.configMap };

    if (t.mode === 'operator') {
      this.testRun = buildOperatorForm(this.ctx);
      return;
    }
    const jobs = buildJobsForm(this.ctx);
    this.service = jobs.service;
    this.runnerJob = jobs.runnerJob;
    this.cronJob = jobs.cronJob;
  }

  /** The runner base URLs (`http://<job>-<i>.<service>.<ns>.svc:6565`), runner 0 first. */
  public runnerUrls(jobName = `${this.runId}-runner`): string[] {
    return runnerUrls(this.ctx, jobName);
  }

  /**
   * The runners' REST API base URLs of a mode "operator" run: the k6-operator gives runner i (1..N) the Service
   * `<name>-service-<i>` on port 6565 (k6-operator v1.6.0 pkg/resources/jobs/runner.go NewRunnerService,
   * internal/controller/k6_create.go).
   */
  public operatorRunnerUrls(): string[] {
    return operatorRunnerUrls(this.ctx);
  }

  /**
   * The Job that stops this run (unscheduled runs of either mode): `loadtest run` applies it on Ctrl-C, and for an
   * operator run also when one runner failed (the operator would let the others run on). It asks every runner to stop
   * through k6's REST API (`PATCH /v1/status`, `stopped: true`) from inside the namespace, where the runners'
   * NetworkPolicy admits it; k6 then ends its iterations and flushes its metrics. Not part of the chart: applying the
   * synthesized manifests must never stop a run.
   */
  public stopJobManifest(): Record<string, unknown> {
    return stopJobManifest(this.ctx);
  }

  /**
   * The Job that starts this cluster's part of a multi-cluster run (`shard`): `loadtest run` applies it in every
   * cluster once every cluster's runners are ready, with the same start time, `startAtMs` (unix ms). Its starter
   * resumes the runners at that time and writes the time it did (`resumed-at=<unix ms>`) to its termination
   * message; more than `maxLateMs` after the start time it resumes nothing and fails. Not part of the chart.
   */
  public startJobManifest(startAtMs: number, maxLateMs: number): Record<string, unknown> {
    return startJobManifest(this.ctx, startAtMs, maxLateMs);
  }
}

/** The per-runner k6 config files of the run's ConfigMap (mode "operator": one empty file all runners share). */
function runnerConfigs(ctx: Pick<RunContext, 'test' | 'shard'>): Record<string, string> {
  const t = ctx.test;
  if (t.mode === 'operator') return { 'runner.json': JSON.stringify({}) };
  return Object.fromEntries(runnerSegments(ctx).map((s, i) => [runnerConfigKey(i), JSON.stringify(runnerK6Config(s, i, t.setupOnce))]));
}

/** `<name>-<hash>` (prefixed with "r" when the name starts with a digit: run ids name Services, which start with a letter). */
function defaultRunId(t: TestConfig, props: LoadTestProps, image: string): string {
  // How the verdict judges validity and how `loadtest compare` judges regressions change no object of the run, so they
  // do not change the run id either; nor do the browser runner defaults a test without k6/browser never uses.
  const { validity, regression, ...run } = t;
  const { browser, ...runner } = props.runner ?? {};
  const h = createHash('sha256')
    .update(
      JSON.stringify({
        t: run,
        scripts: props.scripts.hash,
        image,
        url: props.remoteWriteUrl,
        runner: importsBrowser(props.scripts) ? { ...runner, browser } : runner,
        starter: props.starterImage ?? '',
      }),
    )
    .digest('hex')
    .slice(0, 6);
  return `${/^[0-9]/.test(t.name) ? 'r' : ''}${t.name}-${h}`;
}
