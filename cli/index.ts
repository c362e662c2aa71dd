/**
 * `loadtest`: synthesize the platform, run one test on the current kube-context and follow it, judge a run over all
 * runners, list recent runs. Run with `npm run loadtest -- <command>` (tsx) or through the package's `bin`.
 */
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { PlatformConfigError, type PlatformConfig, type TestConfig } from '@k6-platform/constructs';
import { DEFAULT_ENVIRONMENT, loadEnvironmentConfig, synthesize } from '@k6-platform/constructs/output';
import type { RunCluster } from './cluster/cluster';
import { EXIT } from './exit-codes';
import { initProject } from './scaffold/init';
import { abortableSleep, errorMessage, followRun, type FollowOptions, type RunStatus } from './run/follow';
import { followOperatorRun, requireTestRunCrd, type OperatorRunOutcome } from './run/follow-operator';
import { generatedDashboards, grafanaBaseUrl, runDashboard, runLink } from './cluster/grafana';
import { formatDuration, processOutput, table, type Output } from './output';
import { progressLine, runMetrics, type RunMetrics } from './run/progress';
import { prometheusClient, PrometheusUnreachableError, type PrometheusClientOptions, type PromQuerier } from './prometheus/client';
import { DEFAULT_VERDICT_TIMEOUT_MS, VERDICT_EXIT_CODES } from './verdict/verdict';
import { judgedTestThresholds, planRun, UnknownTestError } from './run/run-plan';
import { DEFAULT_PROMETHEUS_URL, newRunId, RUN_ID, RUN_ID_MAX, RunTestConflictError, runTestQuery } from '@k6-platform/constructs';
import { listRuns, testOfRun } from './prometheus/runs';
import { defaultJudge, type Judge } from './verdict/judge';

/** Environment variable naming the Prometheus base URL when `--prometheus` is not given. */
export const PROMETHEUS_URL_ENV = 'LOADTEST_PROMETHEUS_URL';
/** Environment variable naming the Grafana base URL when `--grafana` is not given. */
export const GRAFANA_URL_ENV = 'LOADTEST_GRAFANA_URL';
/** Environment variable with the verdict timeout (`30s`, `2m`) when `--timeout` is not given. */
export const TIMEOUT_ENV = 'LOADTEST_TIMEOUT';

/** Everything the CLI touches outside itself; tests replace the cluster, Prometheus, clock and signal. */
export interface CliContext {
  /** Where output goes (colors and the live progress line depend on its TTY flag). */
  readonly out: Output;
  /** Environment variables (NO_COLOR, LOADTEST_PROMETHEUS_URL, LOADTEST_GRAFANA_URL). */
  readonly env: NodeJS.ProcessEnv;
  /** Repository root: Pulumi.<env>.yaml, scripts/, dashboards/generated/, dist/. */
  readonly rootDir: string;
  /** Connects to a cluster. @default - the current kube-context through @kubernetes/client-node (cli/cluster/kube.ts) */
  readonly connect?: (context?: string) => Promise<RunCluster>;
  /** Makes a Prometheus client for a base URL. @default - HTTP client of cli/prometheus/client.ts */
  readonly prometheus?: (url: string) => PromQuerier;
  /** Judges a run and prints the table. @default - cli/verdict/verdict.ts */
  readonly judge?: Judge;
  /** The clock. @default - the system clock */
  readonly now?: () => Date;
  /** Aborted on Ctrl-C. @default - never aborted */
  readonly signal?: AbortSignal;
  /** Waits between polls. @default - a timer */
  readonly sleep?: FollowOptions['sleep'];
  /** Milliseconds between polls of `run`. @default 2000 */
  readonly pollIntervalMs?: number;
}

function httpUrl(value: string): string {
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(value)) throw new InvalidArgumentError('must be an http(s) URL such as http://localhost:9090.');
  return value.replace(/\/+$/, '');
}
function environmentName(value: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value))
    throw new InvalidArgumentError('must be an environment name such as "dev" (lower-case letters, digits, "-").');
  return value;
}
function runId(value: string): string {
  if (value.length > RUN_ID_MAX || !RUN_ID.test(value)) {
    throw new InvalidArgumentError(
      `must start with a lower-case letter, then lower-case letters, digits and "-", end alphanumeric, at most ${RUN_ID_MAX} characters.`,
    );
  }
  return value;
}
/** A duration such as `30s`, `1m30s`, `500ms` in milliseconds (for `--timeout`). */
function timeoutMs(value: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(value);
  const ms = m === null || value === '' ? NaN : Number(m[1] ?? 0) * 60_000 + Number(m[2] ?? 0) * 1000 + Number(m[3] ?? 0);
  if (!(ms > 0)) throw new InvalidArgumentError('must be a positive duration such as "30s", "2m" or "1m30s".');
  return ms;
}
function promDuration(value: string): string {
  if (!/^([0-9]+[smhdwy])+$/.test(value)) throw new InvalidArgumentError('must be a Prometheus duration such as "30m", "24h" or "7d".');
  return value;
}

/** The `loadtest` program. Actions store their exit code in `result.code`. */
export function buildProgram(ctx: CliContext, result: { code: number }): Command {
  const { out } = ctx;
  const c = out.colors;
  const prometheusOf = (url: string | undefined, options?: PrometheusClientOptions) => {
    const base = url ?? ctx.env[PROMETHEUS_URL_ENV] ?? DEFAULT_PROMETHEUS_URL;
    return { base, client: ctx.prometheus !== undefined ? ctx.prometheus(base) : prometheusClient(base, options) };
  };
  const judge = ctx.judge ?? defaultJudge;
  const now = ctx.now ?? (() => new Date());
  const prometheusOption = () =>
    new Option('--prometheus <url>', `Prometheus base URL (default: $${PROMETHEUS_URL_ENV}, else ${DEFAULT_PROMETHEUS_URL})`).argParser(httpUrl);
  const timeoutOption = () =>
    new Option(
      '--timeout <duration>',
      `how long the verdict may take over all its Prometheus queries, e.g. 30s, 2m (default: $${TIMEOUT_ENV}, else ${DEFAULT_VERDICT_TIMEOUT_MS / 1000}s); past it: exit ${VERDICT_EXIT_CODES.unreachable}`,
    ).argParser(timeoutMs);
  const timeoutOf = (opt: number | undefined): number => {
    if (opt !== undefined) return opt;
    const fromEnv = ctx.env[TIMEOUT_ENV];
    if (fromEnv === undefined || fromEnv === '') return DEFAULT_VERDICT_TIMEOUT_MS;
    try {
      return timeoutMs(fromEnv);
    } catch (e) {
      // Thrown from an action, so commander has not printed it: print it here, then exit as a usage error.
      const message = `error: $${TIMEOUT_ENV} ${(e as Error).message} Got ${JSON.stringify(fromEnv)}.`;
      out.writeErr(c.red(`${message}\n`));
      throw new CommanderError(EXIT.usage, 'loadtest.invalidTimeout', message);
    }
  };
  const envOption = () =>
    new Option('--env <name>', 'environment: Pulumi.<name>.yaml (only dev runs on defaults without one)')
      .default(DEFAULT_ENVIRONMENT)
      .argParser(environmentName);

  const program = new Command('loadtest')
    .description('Distributed k6 load tests on Kubernetes: synthesize, run and follow, judge over all runners, list runs.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => out.write(s),
      writeErr: (s) => out.writeErr(s),
      outputError: (s, write) => write(c.red(s)),
    })
    .addHelpText(
      'after',
      `
Exit codes: ${VERDICT_EXIT_CODES.pass} pass, ${VERDICT_EXIT_CODES.fail} thresholds failed (k6's code), ${VERDICT_EXIT_CODES['no-data']} no data for the testid, ${VERDICT_EXIT_CODES.unreachable} Prometheus unreachable,
${EXIT.usage} bad arguments, ${EXIT.runFailed} run did not complete, ${EXIT.interrupted} stopped with Ctrl-C, ${EXIT.error} other errors.
Needs a cluster: run (current kube-context). Needs Prometheus: run, verdict, runs. synth needs neither.`,
    );

  program
    .command('synth')
    .description('synthesize Kubernetes manifests into dist/<env>/ (no cluster needed)')
    .addOption(new Option('--env <name...>', 'environments to synthesize (default: every Pulumi.<env>.yaml plus dev)').argParser(collectEnv))
    .option('--out <dir>', 'output directory', 'dist')
    .action((opts: { env?: string[]; out: string }) => {
      const outDir = path.resolve(ctx.rootDir, opts.out);
      const results = synthesize({ rootDir: ctx.rootDir, outDir, ...(opts.env !== undefined ? { environments: opts.env } : {}) });
      for (const [env, r] of results) {
        out.write(`${c.green('✓')} ${env}: ${r.objectCount} objects -> ${path.relative(process.cwd(), path.join(outDir, env))}\n`);
        for (const f of r.files) out.write(`    ${f}\n`);
        for (const n of r.notes) out.write(`  ${c.yellow('note')}: ${n}\n`);
      }
      result.code = EXIT.ok;
    });

  program
    .command('run')
    .description('apply one run of <test> to the current kube-context, follow it live, then judge it (needs a cluster)')
    .argument('<test>', 'test name from the environment config')
    .addOption(envOption())
    .addOption(new Option('--run-id <id>', 'run id (k6 testid); default: <test>-<yyyymmdd>-<hhmmss> (UTC)').argParser(runId))
    .addOption(prometheusOption())
    .addOption(
      new Option(
        '--grafana <url>',
        `Grafana base URL for the run link (default: $${GRAFANA_URL_ENV}, the ingress host, or a port-forward)`,
      ).argParser(httpUrl),
    )
    .option('--dashboard <uid>', 'dashboard uid for the run link (default: the run dashboard in dashboards/generated/)')
    .option('--context <name>', 'kube-context (default: the current one)')
    .addOption(timeoutOption())
    .action(async (testName: string, opts: RunOptions) => {
      result.code = await runCommand(testName, opts);
    });

  program
    .command('verdict')
    .description('judge a run over all its runners from Prometheus; prints the table, exits 0 pass / 99 fail')
    .requiredOption('--testid <id>', 'the run id (k6 testid tag)')
    .addOption(prometheusOption())
    .addOption(envOption())
    .option(
      '--test <name>',
      "test whose thresholds apply (default: the run's test label; for runs without one, the longest test name prefixing the testid)",
    )
    .addOption(timeoutOption())
    .action(async (opts: { testid: string; prometheus?: string; env: string; test?: string; timeout?: number }) => {
      const cfg = loadEnvironmentConfig(ctx.rootDir, opts.env);
      const timeout = timeoutOf(opts.timeout);
      const startedAt = Date.now();
      // One time budget: finding the run's test and the verdict's queries share the timeout.
      const prom = prometheusOf(opts.prometheus, {
        timeoutMs: timeout,
        deadline: AbortSignal.timeout(timeout),
        deadlineName: `--timeout ${timeout / 1000}s`,
      });
      let test: TestConfig | undefined;
      let testNote: string | undefined;
      if (opts.test !== undefined) {
        test = findTest(cfg, opts.test);
        // An explicit --test wins; say so when the run's own label names another test.
        const labels = (await prom.client.query(runTestQuery(opts.testid), now().getTime() / 1000))
          .map((x) => x.metric.test ?? '')
          .filter((l) => l !== '');
        const others = [...new Set(labels)].filter((l) => l !== test?.name).sort();
        if (others.length > 0) {
          testNote = `run ${opts.testid} carries the test label ${others.map((o) => JSON.stringify(o)).join(', ')}: judged with the thresholds of --test ${opts.test}`;
        }
      } else {
        const found = await testOfRun(prom.client, opts.testid, cfg.tests, { time: now().getTime() / 1000 });
        if (found.source === 'label' && !cfg.tests.some((t) => t.name === found.test)) {
          out.writeErr(
            c.red(
              `error: run ${opts.testid} carries the test label ${JSON.stringify(found.test)}; pass --test <name> to judge it with another test's thresholds\n`,
            ),
          );
        }
        if (found.test !== undefined) test = findTest(cfg, found.test);
        testNote = found.note;
      }
      result.code = await judge({
        prometheusUrl: prom.base,
        testid: opts.testid,
        test,
        ...(test !== undefined ? { thresholds: judgedTestThresholds(ctx.rootDir, test) } : {}),
        out,
        now: now(),
        trends: trendsOf(cfg),
        timeoutMs: Math.max(1, timeout - (Date.now() - startedAt)),
        ...(testNote !== undefined ? { testNote } : {}),
      });
    });

  program
    .command('runs')
    .description('list recent runs from Prometheus (testid, start, duration, runners, verdict when the test has thresholds)')
    .addOption(prometheusOption())
    .addOption(envOption())
    .addOption(new Option('--since <duration>', 'how far back to look').default('24h').argParser(promDuration))
    .option('--no-verdict', 'skip judging each run')
    .addOption(timeoutOption())
    .action(async (opts: { prometheus?: string; env: string; since: string; verdict: boolean; timeout?: number }) => {
      const cfg = loadEnvironmentConfig(ctx.rootDir, opts.env);
      const timeout = timeoutOf(opts.timeout);
      const prom = prometheusOf(opts.prometheus, { timeoutMs: timeout });
      const runs = await listRuns(prom.client, opts.since, cfg.tests, now().getTime() / 1000);
      if (runs.length === 0) {
        out.write(`no runs in the last ${opts.since} at ${prom.base}\n`);
        result.code = EXIT.ok;
        return;
      }
      const rows: string[][] = [];
      for (const r of runs) {
        const test = r.test !== undefined ? cfg.tests.find((t) => t.name === r.test) : undefined;
        let verdict = c.dim('-');
        const thresholds = opts.verdict && test !== undefined && r.started ? judgedTestThresholds(ctx.rootDir, test) : {};
        if (!r.started) verdict = c.yellow('not started');
        else if (test !== undefined && Object.values(thresholds).some((l) => l.length > 0)) {
          const code = await judge({
            prometheusUrl: prom.base,
            testid: r.testid,
            test,
            thresholds,
            out: silent(out),
            now: now(),
            trends: trendsOf(cfg),
            quiet: true,
            timeoutMs: timeout,
          });
          verdict = code === 0 ? c.green('pass') : code === VERDICT_EXIT_CODES.fail ? c.red('fail') : c.yellow(`exit ${code}`);
        }
        rows.push([
          r.testid,
          r.testSource === 'conflict' ? c.red('conflict') : r.test === undefined ? c.dim('?') : r.testSource === 'prefix' ? `${r.test}*` : r.test,
          new Date(r.start * 1000).toISOString().replace('.000Z', 'Z'),
          formatDuration(r.end - r.start),
          String(r.runners),
          verdict,
        ]);
      }
      out.write(table(['TESTID', 'TEST', 'START (UTC)', 'DURATION', 'RUNNERS', 'VERDICT'], rows));
      if (runs.some((r) => r.testSource === 'prefix')) {
        out.write(
          c.dim('* no test label on the run (written before runners were tagged): test matched by the longest test name prefixing the testid\n'),
        );
      }
      if (runs.some((r) => r.testSource === 'conflict')) {
        out.write(c.red('conflict: the run carries more than one test label; judge it with loadtest verdict --testid <id> --test <name>\n'));
      }
      result.code = EXIT.ok;
    });

  program
    .command('init')
    .description('write a new load-test repository for a service team into <dir> (new or empty): scripts, config, CI')
    .argument('<dir>', 'directory of the new repository')
    .option('--name <name>', 'npm package name (default: the directory name)')
    .addOption(new Option('--env <name>', 'the environment its config declares').default('dev').argParser(environmentName))
    .action((dir: string, opts: { name?: string; env: string }) => {
      const created = initProject(path.resolve(dir), { ...(opts.name !== undefined ? { name: opts.name } : {}), environment: opts.env });
      out.write(`${c.green('✓')} ${created.dir}: ${created.files.length} files\n`);
      for (const f of created.files) out.write(`    ${f}\n`);
      out.write(`next: cd ${dir} && npm install && npm test\n`);
      result.code = EXIT.ok;
    });

  interface RunOptions {
    env: string;
    runId?: string;
    prometheus?: string;
    grafana?: string;
    dashboard?: string;
    context?: string;
    timeout?: number;
  }

  async function runCommand(testName: string, opts: RunOptions): Promise<number> {
    const cfg = loadEnvironmentConfig(ctx.rootDir, opts.env);
    findTest(cfg, testName);
    const id = opts.runId ?? newRunId(testName, now());
    const plan = planRun(cfg, ctx.rootDir, testName, id);
    const prom = prometheusOf(opts.prometheus);
    // Loaded lazily so commands without a cluster (and tests) never load @kubernetes/client-node.
    const connect =
      ctx.connect ??
      (async (context?: string) =>
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- typed lazy require (a dynamic import() needs an extension under node20)
        (require('./cluster/kube') as typeof import('./cluster/kube')).connectCluster(context));
    const cluster = await connect(opts.context);
    const started = now().getTime();

    out.write(`${c.bold(`run ${id}`)}: test ${testName}, ${plan.test.parallelism} runner(s), namespace ${plan.namespace}, ${cluster.description}\n`);
    if (plan.test.mode === 'operator') await requireTestRunCrd(cluster, testName);
    await cluster.apply(plan.objects);
    out.write(`applied ${plan.objects.length} objects: ${plan.objects.map((o) => `${o.kind}/${o.metadata.name ?? '?'}`).join(', ')}\n`);
    const link = grafanaLink(cfg, id, started, opts);
    out.write(`grafana: ${link}\n`);

    let lastShown = '';
    let metrics: RunMetrics | undefined;
    const onStatus = async (status: RunStatus) => {
      metrics = await runMetrics(prom.client, id).catch(() => undefined);
      const line = progressLine(status, metrics, formatDuration((now().getTime() - started) / 1000), c);
      if (out.isTTY) out.write(`\r\u001b[2K${line}`);
      else {
        // Without a terminal: one line per change of the runner state, not per poll.
        const key = JSON.stringify(status);
        if (key !== lastShown) out.write(`${line}\n`);
        lastShown = key;
      }
    };
    const followOptions = {
      cluster,
      namespace: plan.namespace,
      runId: id,
      runners: plan.test.parallelism,
      ...(plan.stopJob !== undefined ? { stopJob: plan.stopJob } : {}),
      sleep: ctx.sleep ?? abortableSleep,
      pollIntervalMs: ctx.pollIntervalMs ?? 2000,
      onStatus,
      ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
    };
    // mode "operator": the TestRun's stage and the operator's Jobs (cli/run/follow-operator.ts)
    const outcome: OperatorRunOutcome = plan.test.mode === 'operator' ? await followOperatorRun(followOptions) : await followRun(followOptions);
    if (out.isTTY) out.write('\n');

    const uid = dashboardUid(cfg, opts);
    switch (outcome.kind) {
      case 'interrupted':
        out.write(`${c.yellow('interrupted')}: ${outcome.detail}\n`);
        for (const e of outcome.stopErrors) out.write(`  ${c.yellow('could not stop')} ${e}\n`);
        out.write(`judge what ran so far: loadtest verdict --testid ${id} --env ${opts.env}\n`);
        return EXIT.interrupted;
      case 'completed': {
        out.write(`${c.green('finished')}: ${outcome.detail}\n`);
        if (uid !== undefined)
          out.write(`grafana (whole run): ${runLink(linkBase(cfg, opts), uid, id, started - 60_000, now().getTime() + 60_000)}\n`);
        return judge({
          prometheusUrl: prom.base,
          testid: id,
          test: plan.test,
          thresholds: plan.thresholds,
          out,
          now: now(),
          trends: trendsOf(cfg),
          timeoutMs: timeoutOf(opts.timeout),
        });
      }
      default:
        out.write(`${c.red(outcome.kind)}: ${outcome.detail}\n`);
        out.write(`inspect: kubectl -n ${plan.namespace} get jobs,pods -l k6.platform/run-id=${id}\n`);
        return EXIT.runFailed;
    }
  }

  function dashboardUid(cfg: PlatformConfig, opts: { dashboard?: string }): string | undefined {
    return opts.dashboard ?? runDashboard(generatedDashboards(ctx.rootDir), cfg.runner.nativeHistograms)?.uid;
  }
  function linkBase(cfg: PlatformConfig, opts: { grafana?: string }): string {
    return opts.grafana ?? ctx.env[GRAFANA_URL_ENV] ?? grafanaBaseUrl(cfg).url;
  }
  function grafanaLink(cfg: PlatformConfig, id: string, started: number, opts: { grafana?: string; dashboard?: string }): string {
    const uid = dashboardUid(cfg, opts);
    if (uid === undefined) return c.dim('no dashboard in dashboards/generated/ (run npm run dashboards)');
    const base = grafanaBaseUrl(cfg);
    const viaForward = opts.grafana === undefined && ctx.env[GRAFANA_URL_ENV] === undefined && base.hint !== undefined;
    return `${runLink(linkBase(cfg, opts), uid, id, started - 60_000)}${viaForward ? c.dim(` (after: ${base.hint})`) : ''}`;
  }

  return program;
}

function collectEnv(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), environmentName(value)];
}

function findTest(cfg: PlatformConfig, name: string): TestConfig {
  const test = cfg.tests.find((t) => t.name === name);
  if (test === undefined) throw new UnknownTestError(name, cfg);
  return test;
}

/** How the environment's runners write trends, for the verdict's queries. */
function trendsOf(cfg: PlatformConfig): 'native' | 'classic' {
  return cfg.runner.nativeHistograms ? 'native' : 'classic';
}

function silent(out: Output): Output {
  return { ...out, write: () => undefined };
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code. Usage errors give
 * {@link EXIT.usage}; config errors and unexpected failures print one message and give {@link EXIT.error}.
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const result = { code: EXIT.ok as number };
  const program = buildProgram(ctx, result);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return EXIT.ok;
      // commander printed the message already
      return EXIT.usage;
    }
    const c = ctx.out.colors;
    if (e instanceof UnknownTestError || e instanceof RunTestConflictError) {
      ctx.out.writeErr(c.red(`error: ${e.message}\n`));
      return EXIT.usage;
    }
    if (e instanceof PrometheusUnreachableError) {
      ctx.out.writeErr(c.red(`error: ${e.message}\n`));
      return VERDICT_EXIT_CODES.unreachable;
    }
    if (e instanceof PlatformConfigError) {
      ctx.out.writeErr(c.red(`error: ${e.message}\n`));
      return EXIT.error;
    }
    ctx.out.writeErr(c.red(`error: ${errorMessage(e)}\n`));
    return EXIT.error;
  }
}

/** Entry point: process I/O, Ctrl-C wired to a clean stop (a second Ctrl-C exits at once). */
export async function main(): Promise<void> {
  const ac = new AbortController();
  process.on('SIGINT', () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping the run (Ctrl-C again to quit without cleaning up)...\n');
    ac.abort();
  });
  const rootDir = path.resolve(__dirname, '..');
  const code = await runCli(process.argv.slice(2), { out: processOutput(), env: process.env, rootDir, signal: ac.signal });
  // Exit explicitly once stdout is flushed: keep-alive sockets of the API client must not hold the process open.
  process.stdout.write('', () => process.exit(code));
}

if (require.main === module) void main();
