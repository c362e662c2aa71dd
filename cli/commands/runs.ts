/** `loadtest runs`: recent runs from Prometheus, each judged when its test has thresholds. */
import { Option, type Command } from 'commander';
import type { PlatformConfig } from '@k6-platform/constructs';
import { loadEnvironmentConfig } from '@k6-platform/constructs/output';
import { EXIT } from '../exit-codes';
import { formatDuration, table } from '../output';
import { listRuns } from '../prometheus/runs';
import { judgedTestThresholds } from '../run/run-plan';
import { VERDICT_EXIT_CODES } from '../verdict/verdict';
import { silent, trendsOf, type CommandKit, type CommandResult, type ResolvedPrometheus } from './context';
import { envOption, promDuration, prometheusOption, timeoutOption } from './options';

interface RunsOptions {
  prometheus?: string;
  env: string;
  since: string;
  verdict: boolean;
  timeout?: number;
}

type ListedRun = Awaited<ReturnType<typeof listRuns>>[number];

/** Adds `runs` to the program. */
export function addRunsCommand(program: Command, kit: CommandKit, result: CommandResult): void {
  program
    .command('runs')
    .description('list recent runs from Prometheus (testid, start, duration, runners, verdict when the test has thresholds)')
    .addOption(prometheusOption())
    .addOption(envOption())
    .addOption(new Option('--since <duration>', 'how far back to look').default('24h').argParser(promDuration))
    .option('--no-verdict', 'skip judging each run')
    .addOption(timeoutOption())
    .action(async (opts: RunsOptions) => {
      result.code = await runsCommand(kit, opts);
    });
}

async function runsCommand(kit: CommandKit, opts: RunsOptions): Promise<number> {
  const { ctx, out, c, now } = kit;
  const cfg = loadEnvironmentConfig(ctx.rootDir, opts.env);
  const timeout = kit.timeoutOf(opts.timeout);
  const prom = kit.prometheusOf(opts.prometheus, { timeoutMs: timeout });
  const runs = await listRuns(prom.client, opts.since, cfg.tests, now().getTime() / 1000);
  if (runs.length === 0) {
    out.write(`no runs in the last ${opts.since} at ${prom.base}\n`);
    return EXIT.ok;
  }
  const rows: string[][] = [];
  for (const r of runs) {
    rows.push([
      r.testid,
      r.testSource === 'conflict' ? c.red('conflict') : r.test === undefined ? c.dim('?') : r.testSource === 'prefix' ? `${r.test}*` : r.test,
      new Date(r.start * 1000).toISOString().replace('.000Z', 'Z'),
      formatDuration(r.end - r.start),
      String(r.runners),
      await runVerdict(kit, cfg, prom, r, opts, timeout),
    ]);
  }
  out.write(table(['TESTID', 'TEST', 'START (UTC)', 'DURATION', 'RUNNERS', 'VERDICT'], rows));
  if (runs.some((r) => r.testSource === 'prefix')) {
    out.write(c.dim('* no test label on the run (written before runners were tagged): test matched by the longest test name prefixing the testid\n'));
  }
  if (runs.some((r) => r.testSource === 'conflict')) {
    out.write(c.red('conflict: the run carries more than one test label; judge it with loadtest verdict --testid <id> --test <name>\n'));
  }
  return EXIT.ok;
}

/** The VERDICT cell of one run: judged quietly when it started and its test has thresholds. */
async function runVerdict(
  kit: CommandKit,
  cfg: PlatformConfig,
  prom: ResolvedPrometheus,
  r: ListedRun,
  opts: RunsOptions,
  timeout: number,
): Promise<string> {
  const { ctx, out, c, now } = kit;
  const test = r.test !== undefined ? cfg.tests.find((t) => t.name === r.test) : undefined;
  const thresholds = opts.verdict && test !== undefined && r.started ? judgedTestThresholds(ctx.rootDir, test) : {};
  if (!r.started) return c.yellow('not started');
  if (test === undefined || !Object.values(thresholds).some((l) => l.length > 0)) return c.dim('-');
  const code = await kit.judge({
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
  return code === 0 ? c.green('pass') : code === VERDICT_EXIT_CODES.fail ? c.red('fail') : c.yellow(`exit ${code}`);
}
