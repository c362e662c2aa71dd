/**
 * `loadtest run`: apply one run of a test to the current kube-context (or split over several: docs/multi-cluster.md),
 * follow it live, then judge it.
 */
import { Option, type Command } from 'commander';
import { K6_THRESHOLD_ABORT_EXIT_CODE, k6DurationSeconds, newRunId, type PlatformConfig } from '@k6-platform/constructs/internal';
import type { RunCluster } from '../cluster/cluster';
import { generatedDashboards, grafanaBaseUrl, runDashboard, runLink } from '../cluster/grafana';
import { EXIT } from '../exit-codes';
import { abortWatch, crossingText, type AbortDecision, type AbortWatch } from '../run/abort-watch';
import { abortableSleep, followRun, type RunStatus } from '../run/follow';
import { followOperatorRun, requireTestRunCrd, type OperatorRunOutcome } from '../run/follow-operator';
import { progressLine, runMetrics } from '../run/progress';
import { planRun } from '../run/run-plan';
import { collectZone, planClusters, splitWeights, type ClusterPlan } from '../run/multi-plan';
import { followClusters, type ClusterRun } from '../run/multi-follow';
import { UsageError } from '../exit-codes';
import { writeJunit } from '../verdict/junit';
import { VERDICT_EXIT_CODES, type Verdict } from '../verdict/verdict';
import type { ValidityInput } from '../verdict/validity';
import { validityInput } from '../verdict/validity';
import { reportDirOption, writeRunReport } from './report';
import { environmentConfig, findTest, dialectOf, trendsOf, type CommandKit, type CommandResult, type ResolvedPrometheus } from './context';
import {
  envOption,
  GRAFANA_URL_ENV,
  httpUrlOption,
  junitOption,
  prometheusOption,
  prometheusTenantOption,
  prometheusTokenFileOption,
  runId,
  timeoutOption,
} from './options';

interface RunOptions {
  env: string;
  runId?: string;
  prometheus?: string;
  prometheusTokenFile?: string;
  prometheusTenant?: string;
  junit?: string;
  report?: string;
  grafana?: string;
  dashboard?: string;
  context?: string[];
  split?: number[];
  zone?: (readonly [string, string])[];
  timeout?: number;
}

/** One run being followed: what the steps after `apply` need. */
interface RunState {
  readonly cfg: PlatformConfig;
  readonly id: string;
  readonly plan: ReturnType<typeof planRun>;
  readonly prom: ResolvedPrometheus;
  readonly started: number;
  readonly opts: RunOptions;
}

/** Adds `run` to the program. */
export function addRunCommand(program: Command, kit: CommandKit, result: CommandResult): void {
  program
    .command('run')
    .description('apply one run of <test> to the current kube-context, follow it live, then judge it (needs a cluster)')
    .argument('<test>', 'test name from the environment config')
    .addOption(envOption())
    .addOption(new Option('--run-id <id>', 'run id (k6 testid); default: <test>-<yyyymmdd>-<hhmmss> (UTC)').argParser(runId))
    .addOption(prometheusOption())
    .addOption(prometheusTokenFileOption())
    .addOption(prometheusTenantOption())
    .addOption(
      new Option(
        '--grafana <url>',
        `Grafana base URL for the run link (default: $${GRAFANA_URL_ENV}, the ingress host, or a port-forward)`,
      ).argParser(httpUrlOption('--grafana <url>')),
    )
    .option('--dashboard <uid>', 'dashboard uid for the run link (default: the run dashboard in dashboards/generated/)')
    .addOption(
      new Option(
        '--context <name>',
        'kube-context (default: the current one); repeat it to split the run over several clusters (docs/multi-cluster.md)',
      ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .addOption(
      new Option(
        '--split <weights>',
        'with several --context: the share of the test each cluster runs, one integer weight per --context, e.g. 3:1 (default: equal)',
      ).argParser(splitWeights),
    )
    .addOption(
      new Option(
        '--zone <context=name>',
        "with several --context: the zone label of that context's runners (default: the context's name made label-safe); repeatable",
      ).argParser(collectZone),
    )
    .addOption(timeoutOption())
    .addOption(junitOption())
    .addOption(reportDirOption('--report <dir>', 'also write the run report there: summary.json, junit.xml, index.html (loadtest report)'))
    .action(async (testName: string, opts: RunOptions) => {
      result.code = await runCommand(kit, testName, opts);
    });
}

async function runCommand(kit: CommandKit, testName: string, opts: RunOptions): Promise<number> {
  const { ctx, out, c, now } = kit;
  const cfg = environmentConfig(ctx.rootDir, opts.env);
  findTest(cfg, testName);
  const id = opts.runId ?? newRunId(testName, now());
  const multi = clusterPlans(kit, cfg, testName, id, opts);
  const plan = multi?.[0]!.plan ?? planRun(cfg, ctx.rootDir, testName, id);
  const prom = kit.prometheusOf(opts, undefined, cfg);
  // Loaded lazily so commands without a cluster (and tests) never load @kubernetes/client-node.
  const connect =
    ctx.connect ??
    (async (context?: string) =>
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- typed lazy require (a dynamic import() needs an extension under node20)
      (require('../cluster/kube') as typeof import('../cluster/kube')).connectCluster(context));
  const clusters =
    multi !== undefined ? await Promise.all(multi.map(async (m): Promise<ClusterRun> => ({ ...m, cluster: await connect(m.context) }))) : undefined;
  const cluster = clusters?.[0]!.cluster ?? (await connect(opts.context?.[0]));
  const started = now().getTime();
  const run: RunState = { cfg, id, plan, prom, started, opts };

  if (clusters !== undefined) {
    const where = clusters.map((m) => `${m.zone}: ${m.runners} (${m.cluster.description})`).join(', ');
    out.write(
      `${c.bold(`run ${id}`)}: test ${testName}, ${plan.test.parallelism} runner(s) in ${clusters.length} clusters (${where}), namespace ${plan.namespace}\n`,
    );
    if (plan.test.setupOnce) out.write(`${c.yellow('note')}: setupOnce: setup() and teardown() run once in each cluster, not once for the run\n`);
  } else {
    out.write(`${c.bold(`run ${id}`)}: test ${testName}, ${plan.test.parallelism} runner(s), namespace ${plan.namespace}, ${cluster.description}\n`);
    if (plan.test.mode === 'operator') await requireTestRunCrd(cluster, testName);
    await cluster.apply(plan.objects);
    out.write(`applied ${plan.objects.length} objects: ${plan.objects.map((o) => `${o.kind}/${o.metadata.name ?? '?'}`).join(', ')}\n`);
  }
  out.write(`grafana: ${grafanaLink(kit, run)}\n`);

  const watch = abortWatch({
    thresholds: plan.thresholds,
    testid: id,
    trends: trendsOf(cfg),
    dialect: dialectOf(cfg),
    prom: prom.client,
    intervalMs: ctx.abortIntervalMs ?? k6DurationSeconds(cfg.runner.pushInterval) * 1000,
    now: () => now().getTime(),
    appliedAt: started,
  });
  const outcome = await follow(kit, run, clusters ?? cluster, watch);
  if (out.isTTY) out.write('\n');
  return report(kit, run, outcome, aborted(kit, outcome, watch));
}

/** The crossing that stopped the run: the run was interrupted by the watch, not by Ctrl-C. */
function aborted(kit: CommandKit, outcome: OperatorRunOutcome, watch: AbortWatch): AbortDecision | undefined {
  return outcome.kind === 'interrupted' && kit.ctx.signal?.aborted !== true ? watch.crossing : undefined;
}

/**
 * A multi-cluster run's start time is this far ahead of the moment every cluster is ready: time for each cluster to
 * schedule and start its start Job's pod (the starter image is on the nodes already, beside runner 0).
 */
export const START_LEAD_MS = 15_000;
/** How late after the start time a cluster may resume its runners; later, its start Job resumes nothing and the run fails. */
export const MAX_START_LATE_MS = 2_000;

const isClusterList = (c: RunCluster | readonly ClusterRun[]): c is readonly ClusterRun[] => Array.isArray(c);

/** The clusters of a run over several `--context`s (undefined for one or none: the run as ever). */
function clusterPlans(kit: CommandKit, cfg: PlatformConfig, testName: string, id: string, opts: RunOptions): ClusterPlan[] | undefined {
  const contexts = opts.context ?? [];
  if (contexts.length < 2) {
    if (opts.split !== undefined || opts.zone !== undefined) {
      throw new UsageError(`options '--split <weights>' and '--zone <context=name>' split a run over clusters: give two or more --context options`);
    }
    return undefined;
  }
  return planClusters(cfg, kit.ctx.rootDir, testName, id, {
    contexts,
    ...(opts.split !== undefined ? { split: opts.split } : {}),
    ...(opts.zone !== undefined ? { zones: opts.zone } : {}),
  });
}

/** Without a terminal, a progress line is printed on every change of the runners' state and at least this often. */
export const PLAIN_PROGRESS_INTERVAL_MS = 30_000;

/**
 * Follows the run to its end, redrawing a progress line on every poll (TTY), or printing plain lines (no TTY: CI
 * logs) on every change of the runners' state and every {@link PLAIN_PROGRESS_INTERVAL_MS} in between.
 */
async function follow(kit: CommandKit, run: RunState, cluster: RunCluster | readonly ClusterRun[], watch: AbortWatch): Promise<OperatorRunOutcome> {
  const { ctx, out, c, now } = kit;
  const { plan, id, started, prom } = run;
  const totalSeconds = plan.test.duration !== undefined ? k6DurationSeconds(plan.test.duration) : undefined;
  let resumedAt: number | undefined;
  let lastShown = { key: '', at: 0 };
  // A crossing aborts this signal: the follower then stops the run exactly as on Ctrl-C.
  const stop = new AbortController();
  const signal = ctx.signal !== undefined ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
  const onStatus = async (status: RunStatus) => {
    if ((await watch.onStatus(status)) !== undefined) stop.abort();
    const metrics = await runMetrics(prom.client, id).catch(() => undefined);
    const t = now().getTime();
    if (status.starter === 'started') resumedAt ??= t;
    const clock = {
      sinceApplied: (t - started) / 1000,
      ...(resumedAt !== undefined ? { sinceStarted: (t - resumedAt) / 1000 } : {}),
      ...(totalSeconds !== undefined ? { totalSeconds } : {}),
    };
    const crossing = watch.crossing;
    const line = `${progressLine(status, metrics, clock, c)}${crossing !== undefined ? ` | ${c.red(`aborting: ${crossing.name}`)}` : ''}`;
    if (out.isTTY) return void out.write(`\r\u001b[2K${line}`);
    const key = JSON.stringify([status, crossing?.name]);
    if (key !== lastShown.key || t - lastShown.at >= PLAIN_PROGRESS_INTERVAL_MS) {
      out.write(`${line}\n`);
      lastShown = { key, at: t };
    }
  };
  const common = {
    namespace: plan.namespace,
    runId: id,
    // The next abortOnFail evaluation bounds every wait, so it runs on time whatever the poll interval.
    sleep: (ms: number, s?: AbortSignal) => (ctx.sleep ?? abortableSleep)(watch.sleepBound(ms), s),
    pollIntervalMs: ctx.pollIntervalMs ?? 2000,
    onStatus,
    signal,
  };
  if (isClusterList(cluster)) {
    const log = (line: string) => out.write(out.isTTY ? `\r\u001b[2K${line}\n` : `${line}\n`);
    const startTimeoutMs = k6DurationSeconds(plan.test.startTimeout) * 1000;
    const gate = {
      startLeadMs: ctx.startLeadMs ?? START_LEAD_MS,
      maxLateMs: ctx.maxStartLateMs ?? MAX_START_LATE_MS,
      readyTimeoutMs: startTimeoutMs + 60_000,
    };
    return followClusters({ ...common, ...gate, clusters: cluster, now: () => now().getTime(), log });
  }
  const followOptions = { ...common, cluster, runners: plan.test.parallelism, ...(plan.stopJob !== undefined ? { stopJob: plan.stopJob } : {}) };
  // mode "operator": the TestRun's stage and the operator's Jobs (cli/run/follow-operator.ts)
  return plan.test.mode === 'operator' ? followOperatorRun(followOptions) : followRun(followOptions);
}

/** Prints how the run ended and gives the exit code: the verdict when it completed; `--junit` gets the same outcome. */
async function report(kit: CommandKit, run: RunState, outcome: OperatorRunOutcome, crossing: AbortDecision | undefined): Promise<number> {
  let verdict: Verdict | undefined;
  const code = crossing !== undefined ? reportAbort(kit, run, outcome, crossing) : await reportOutcome(kit, run, outcome, (v) => (verdict = v));
  const { id, plan, opts } = run;
  // A run that did not complete is an error in the file, so CI never reads an older file as this run's pass.
  const error =
    crossing !== undefined
      ? { type: ABORTED_BY_THRESHOLD, message: abortMessage(crossing) }
      : outcome.kind === 'completed'
        ? undefined
        : { type: outcome.kind, message: outcome.detail };
  if (opts.junit !== undefined) {
    writeJunit(opts.junit, [
      {
        testid: id,
        test: plan.test.name,
        timestamp: kit.now(),
        ...(verdict !== undefined ? { verdict } : {}),
        ...(error !== undefined ? { error } : {}),
      },
    ]);
  }
  if (opts.report !== undefined) {
    const base = { dir: opts.report, testid: id, test: plan.test, trends: trendsOf(run.cfg), prom: run.prom, timeoutMs: kit.timeoutOf(opts.timeout) };
    await writeRunReport(kit, { ...base, verdict, thresholds: plan.thresholds, ...(error !== undefined ? { error } : {}) });
  }
  return code;
}

/** The JUnit error type of a run stopped by an abortOnFail threshold (k6's abort reason `AbortedByThreshold`). */
export const ABORTED_BY_THRESHOLD = 'aborted-by-threshold';

/** `aborted by threshold http_req_failed rate<0.01 (observed 0.25) 12s into the run` */
function abortMessage(crossing: AbortDecision): string {
  return `aborted by threshold ${crossingText(crossing)} ${Math.round(crossing.elapsedMs / 1000)}s into the run`;
}

/** Prints the abort and gives k6's exit code for it. */
function reportAbort(kit: CommandKit, run: RunState, outcome: OperatorRunOutcome, crossing: AbortDecision): number {
  const { out, c } = kit;
  out.write(`${c.red('aborted')}: ${abortMessage(crossing)}; ${outcome.detail}\n`);
  if (outcome.kind === 'interrupted') for (const e of outcome.stopErrors) out.write(`  ${c.yellow('could not stop')} ${e}\n`);
  out.write(`judge what ran so far: loadtest verdict --testid ${run.id} --env ${run.opts.env}\n`);
  return K6_THRESHOLD_ABORT_EXIT_CODE;
}

async function reportOutcome(kit: CommandKit, run: RunState, outcome: OperatorRunOutcome, onVerdict: (v: Verdict) => void): Promise<number> {
  const { out, c, now } = kit;
  const { cfg, id, plan, started, opts } = run;
  const uid = dashboardUid(kit, cfg, opts);
  switch (outcome.kind) {
    case 'interrupted':
      out.write(`${c.yellow('interrupted')}: ${outcome.detail}\n`);
      for (const e of outcome.stopErrors) out.write(`  ${c.yellow('could not stop')} ${e}\n`);
      out.write(`judge what ran so far: loadtest verdict --testid ${id} --env ${opts.env}\n`);
      return EXIT.interrupted;
    case 'completed': {
      out.write(`${c.green('finished')}: ${outcome.detail}\n`);
      if (uid !== undefined)
        out.write(`grafana (whole run): ${runLink(linkBase(kit, cfg, opts), uid, id, started - 60_000, now().getTime() + 60_000)}\n`);
      return judgeRun(kit, run, validityInput(cfg, plan.test), onVerdict);
    }
    case 'runner-failed':
      out.write(`${c.red(outcome.kind)}: ${outcome.detail}\n`);
      out.write(`inspect: ${inspectCommand(run)}\n`);
      return judgeFailedRun(kit, run, outcome.failures.length > 0 ? outcome.failures : [outcome.detail], onVerdict);
    default:
      out.write(`${c.red(outcome.kind)}: ${outcome.detail}\n`);
      out.write(`inspect: ${inspectCommand(run)}\n`);
      return EXIT.runFailed;
  }
}

/** The kubectl command that shows the run's Jobs and pods (in each cluster of a multi-cluster run). */
function inspectCommand(run: RunState): string {
  const contexts = run.opts.context ?? [];
  const cmd = (context?: string) =>
    `kubectl${context !== undefined ? ` --context ${context}` : ''} -n ${run.plan.namespace} get jobs,pods -l k6.platform/run-id=${run.id}`;
  return contexts.length > 1 ? contexts.map(cmd).join('; ') : cmd();
}

/**
 * A run whose runner failed (OOM-killed, evicted, crashed) measured less load than declared: with validity checks on,
 * it is judged over what its runners wrote and the failures are reasons, so it is INCONCLUSIVE (exit 5) with the
 * thresholds' observed values beside; a run that left no data to judge, or validity off, stays "run failed" (97).
 */
async function judgeFailedRun(kit: CommandKit, run: RunState, failures: readonly string[], onVerdict: (v: Verdict) => void): Promise<number> {
  const validity = validityInput(run.cfg, run.plan.test);
  if (!validity.validity.enabled) return EXIT.runFailed;
  const code = await judgeRun(kit, run, { ...validity, runnerFailures: failures }, onVerdict);
  return code === VERDICT_EXIT_CODES.inconclusive ? code : EXIT.runFailed;
}

/** Judges the run over all runners with `validity`; the exit code is the verdict's. */
function judgeRun(kit: CommandKit, run: RunState, validity: ValidityInput, onVerdict: (v: Verdict) => void): Promise<number> {
  const { cfg, id, plan, prom, opts } = run;
  return kit.judge({
    prometheusUrl: prom.base,
    testid: id,
    test: plan.test,
    thresholds: plan.thresholds,
    validity,
    out: kit.out,
    now: kit.now(),
    trends: trendsOf(cfg),
    dialect: dialectOf(cfg),
    timeoutMs: kit.timeoutOf(opts.timeout),
    ...(prom.auth !== undefined ? { prometheusAuth: prom.auth } : {}),
    onVerdict,
  });
}

function dashboardUid(kit: CommandKit, cfg: PlatformConfig, opts: { dashboard?: string }): string | undefined {
  return opts.dashboard ?? runDashboard(generatedDashboards(kit.ctx.rootDir), cfg.runner.nativeHistograms)?.uid;
}

function linkBase(kit: CommandKit, cfg: PlatformConfig, opts: { grafana?: string }): string {
  return opts.grafana ?? kit.ctx.env[GRAFANA_URL_ENV] ?? grafanaBaseUrl(cfg).url;
}

/** The Grafana link printed once the run is applied (with the port-forward to start when Grafana has no URL). */
function grafanaLink(kit: CommandKit, run: RunState): string {
  const { cfg, id, started, opts } = run;
  const uid = dashboardUid(kit, cfg, opts);
  if (uid === undefined) return kit.c.dim('no dashboard in dashboards/generated/ (run npm run dashboards)');
  const base = grafanaBaseUrl(cfg);
  const viaForward = opts.grafana === undefined && kit.ctx.env[GRAFANA_URL_ENV] === undefined && base.hint !== undefined;
  return `${runLink(linkBase(kit, cfg, opts), uid, id, started - 60_000)}${viaForward ? kit.c.dim(` (after: ${base.hint})`) : ''}`;
}
