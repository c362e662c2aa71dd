import type { QueryDialect, ThresholdsConfig } from '@k6-platform/constructs/internal';
import type { TestConfig } from '@k6-platform/constructs/internal';
import type { Output } from '../output';
import type { PrometheusAuth } from '../prometheus/auth';
import { evaluateVerdict, formatVerdict, type Verdict } from './verdict';
import type { ValidityInput } from './validity';

/** What the CLI asks of the verdict: judge one run, print its table, return the exit code. */
export interface JudgeRequest {
  /** Prometheus base URL. */
  readonly prometheusUrl: string;
  /** The run id (k6 `testid` tag). */
  readonly testid: string;
  /**
   * The thresholds that judge the run: the test's config thresholds plus its script's `options.thresholds`
   * (cli/run/run-plan.ts `judgedTestThresholds`). @default - the test's config thresholds
   */
  readonly thresholds?: ThresholdsConfig;
  /** The test whose thresholds apply; undefined when the run cannot be tied to a configured test. */
  readonly test: TestConfig | undefined;
  /** Where the table goes. */
  readonly out: Output;
  /** Evaluation time. */
  readonly now: Date;
  /** How the runners wrote trends (`runner.nativeHistograms` of the environment). @default "native" */
  readonly trends?: 'native' | 'classic';
  /** The query dialect of the backend (`monitoring.backend.kind`). @default "prometheus" */
  readonly dialect?: QueryDialect;
  /** Print nothing (the `runs` listing only wants the code). @default false */
  readonly quiet?: boolean;
  /** How the run was tied to its test, when not from its `test` label (cli/prometheus/runs.ts `pickRunTest`): printed first. */
  readonly testNote?: string;
  /** Milliseconds the whole verdict may take (`--timeout`). @default 60000 (DEFAULT_VERDICT_TIMEOUT_MS) */
  readonly timeoutMs?: number;
  /** Credentials for Prometheus (never printed). @default - none */
  readonly prometheusAuth?: PrometheusAuth;
  /** Receives the verdict before the exit code is returned (for `--json` and `--junit`). @default - none */
  readonly onVerdict?: (verdict: Verdict) => void;
  /** Check the runners were not starved (an inconclusive run exits 5). @default - no checks */
  readonly validity?: ValidityInput;
}

/** Judges one run; resolves to the verdict's exit code (0 pass, 99 fail, others for no data / unreachable). */
export type Judge = (request: JudgeRequest) => Promise<number>;

/**
 * The `note:` lines of a verdict, in the order the table's output prints them: how the run was tied to its test, and
 * why a pass judged nothing (no test, or a test without thresholds).
 */
export function verdictNotes(req: Pick<JudgeRequest, 'testid' | 'test' | 'testNote'>, verdict: Pick<Verdict, 'status' | 'rows'>): string[] {
  const notes = req.testNote !== undefined ? [req.testNote] : [];
  if (verdict.rows.length === 0 && verdict.status === 'pass') {
    notes.push(
      req.test === undefined
        ? `run ${req.testid} is tied to no configured test (use --test); no thresholds judged`
        : `test ${req.test.name} declares no thresholds (neither in its config nor in its script's options)`,
    );
  }
  return notes;
}

/**
 * The verdict of cli/verdict/verdict.ts, adapted to the CLI: the test's thresholds (none when the run is not tied to a
 * configured test: then only "no data" / "unreachable" can be told apart from a vacuous pass, and a note says so).
 */
export const defaultJudge: Judge = async (req) => {
  const thresholds = req.thresholds ?? req.test?.thresholds ?? {};
  const c = req.out.colors;
  if (req.quiet !== true && req.testNote !== undefined) req.out.write(c.yellow(`note: ${req.testNote}\n`));
  const verdict = await evaluateVerdict(req.prometheusUrl, req.testid, thresholds, {
    now: req.now.getTime(),
    trends: req.trends ?? 'native',
    ...(req.dialect !== undefined ? { dialect: req.dialect } : {}),
    ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
    ...(req.prometheusAuth !== undefined ? { auth: req.prometheusAuth } : {}),
    ...(req.validity !== undefined ? { validity: req.validity } : {}),
  });
  req.onVerdict?.(verdict);
  if (req.quiet !== true) {
    const text = formatVerdict(verdict)
      .replace(/\bFAIL\b/g, c.red('FAIL'))
      .replace(/\bINCONCLUSIVE\b/g, c.yellow('INCONCLUSIVE'))
      .replace(/\bpass\b/g, c.green('pass'));
    req.out.write(`${text}\n`);
    // the test note went out before the table
    for (const note of verdictNotes({ testid: req.testid, test: req.test }, verdict)) req.out.write(c.yellow(`note: ${note}\n`));
  }
  return verdict.exitCode;
};
