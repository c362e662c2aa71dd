/** `loadtest verdict`: judge one run over all its runners from Prometheus. */
import type { Command } from 'commander';
import { runTestQuery, type PlatformConfig, type TestConfig } from '@k6-platform/constructs/internal';
import { PrometheusUnreachableError } from '../prometheus/client';
import { testOfRun } from '../prometheus/runs';
import { judgedTestThresholds } from '../run/run-plan';
import { verdictNotes } from '../verdict/judge';
import { jsonText, verdictJson } from '../verdict/json';
import { writeJunit } from '../verdict/junit';
import { validityInput } from '../verdict/validity';
import { VERDICT_EXIT_CODES, type Verdict } from '../verdict/verdict';
import { environmentConfig, findTest, silent, dialectOf, trendsOf, type CommandKit, type CommandResult, type ResolvedPrometheus } from './context';
import { envOption, jsonOption, junitOption, prometheusOption, prometheusTenantOption, prometheusTokenFileOption, timeoutOption } from './options';

interface VerdictOptions {
  testid: string;
  prometheus?: string;
  prometheusTokenFile?: string;
  prometheusTenant?: string;
  json?: boolean;
  junit?: string;
  env: string;
  test?: string;
  timeout?: number;
}

/** Adds `verdict` to the program. */
export function addVerdictCommand(program: Command, kit: CommandKit, result: CommandResult): void {
  program
    .command('verdict')
    .description('judge a run over all its runners from Prometheus; prints the table, exits 0 pass / 99 fail')
    .requiredOption('--testid <id>', 'the run id (k6 testid tag)')
    .addOption(prometheusOption())
    .addOption(prometheusTokenFileOption())
    .addOption(prometheusTenantOption())
    .addOption(envOption())
    .option(
      '--test <name>',
      "test whose thresholds apply (default: the run's test label; for runs without one, the longest test name prefixing the testid)",
    )
    .addOption(timeoutOption())
    .addOption(jsonOption())
    .addOption(junitOption())
    .action(async (opts: VerdictOptions) => {
      result.code = await verdictCommand(kit, opts);
    });
}

async function verdictCommand(kit: CommandKit, opts: VerdictOptions): Promise<number> {
  const { ctx, out, now } = kit;
  const cfg = environmentConfig(ctx.rootDir, opts.env);
  const timeout = kit.timeoutOf(opts.timeout);
  const startedAt = Date.now();
  // One time budget: finding the run's test and the verdict's queries share the timeout.
  const prom = kit.prometheusOf(
    opts,
    { timeoutMs: timeout, deadline: AbortSignal.timeout(timeout), deadlineName: `--timeout ${timeout / 1000}s` },
    cfg,
  );
  let judged: Awaited<ReturnType<typeof judgedTest>>;
  try {
    judged = await judgedTest(kit, cfg, prom, opts);
  } catch (e) {
    if (opts.json === true && e instanceof PrometheusUnreachableError) return unreachableJson(kit, opts, prom, e);
    throw e;
  }
  const { test, testNote } = judged;
  let verdict: Verdict | undefined;
  const json = opts.json === true;
  const code = await kit.judge({
    prometheusUrl: prom.base,
    testid: opts.testid,
    test,
    ...(test !== undefined ? { thresholds: judgedTestThresholds(ctx.rootDir, test), validity: validityInput(cfg, test) } : {}),
    // --json: the document is all of stdout
    out: json ? silent(out) : out,
    ...(json ? { quiet: true } : {}),
    now: now(),
    trends: trendsOf(cfg),
    dialect: dialectOf(cfg),
    timeoutMs: Math.max(1, timeout - (Date.now() - startedAt)),
    ...(testNote !== undefined ? { testNote } : {}),
    ...(prom.auth !== undefined ? { prometheusAuth: prom.auth } : {}),
    onVerdict: (v) => (verdict = v),
  });
  if (opts.junit !== undefined) {
    writeJunit(opts.junit, [
      { testid: opts.testid, ...(test !== undefined ? { test: test.name } : {}), timestamp: now(), ...(verdict !== undefined ? { verdict } : {}) },
    ]);
  }
  if (json) {
    const req = { testid: opts.testid, test, ...(testNote !== undefined ? { testNote } : {}) };
    const notes = verdict !== undefined ? verdictNotes(req, verdict) : testNote !== undefined ? [testNote] : [];
    out.write(jsonText(verdictJson({ testid: opts.testid, test: test?.name, prometheus: prom.base, exitCode: code, verdict, notes })));
  }
  return code;
}

/** `--json` when Prometheus is unreachable before the verdict began: still the document (its outcome), the message on stderr. */
function unreachableJson(kit: CommandKit, opts: VerdictOptions, prom: ResolvedPrometheus, e: PrometheusUnreachableError): number {
  kit.out.writeErr(kit.c.red(`error: ${e.message}\n`));
  const verdict: Verdict = { status: 'unreachable', exitCode: VERDICT_EXIT_CODES.unreachable, testid: opts.testid, rows: [], message: e.message };
  kit.out.write(
    jsonText(verdictJson({ testid: opts.testid, test: opts.test, prometheus: prom.base, exitCode: verdict.exitCode, verdict, notes: [] })),
  );
  return verdict.exitCode;
}

/** The test whose thresholds judge the run: `--test`, else the run's test label, else the longest prefixing name (also `report`). */
export async function judgedTest(
  kit: CommandKit,
  cfg: PlatformConfig,
  prom: ResolvedPrometheus,
  opts: Pick<VerdictOptions, 'testid' | 'test'>,
): Promise<{ test: TestConfig | undefined; testNote: string | undefined }> {
  const { out, c, now } = kit;
  if (opts.test !== undefined) {
    const test = findTest(cfg, opts.test);
    // An explicit --test wins; say so when the run's own label names another test.
    const labels = (await prom.client.query(runTestQuery(opts.testid), now().getTime() / 1000))
      .map((x) => x.metric.test ?? '')
      .filter((l) => l !== '');
    const others = [...new Set(labels)].filter((l) => l !== test.name).sort();
    const testNote =
      others.length > 0
        ? `run ${opts.testid} carries the test label ${others.map((o) => JSON.stringify(o)).join(', ')}: judged with the thresholds of --test ${opts.test}`
        : undefined;
    return { test, testNote };
  }
  const found = await testOfRun(prom.client, opts.testid, cfg.tests, { time: now().getTime() / 1000 });
  if (found.source === 'label' && !cfg.tests.some((t) => t.name === found.test)) {
    out.writeErr(
      c.red(
        `error: run ${opts.testid} carries the test label ${JSON.stringify(found.test)}; pass --test <name> to judge it with another test's thresholds\n`,
      ),
    );
  }
  return { test: found.test !== undefined ? findTest(cfg, found.test) : undefined, testNote: found.note };
}
