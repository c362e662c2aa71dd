import type { ThresholdsConfig } from '@k6-platform/constructs';
import type { TestConfig } from '@k6-platform/constructs';
import type { Output } from '../output';
import { evaluateVerdict, formatVerdict } from './verdict';

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
  /** Print nothing (the `runs` listing only wants the code). @default false */
  readonly quiet?: boolean;
  /** How the run was tied to its test, when not from its `test` label (cli/prometheus/runs.ts `pickRunTest`): printed first. */
  readonly testNote?: string;
  /** Milliseconds the whole verdict may take (`--timeout`). @default 60000 (DEFAULT_VERDICT_TIMEOUT_MS) */
  readonly timeoutMs?: number;
}

/** Judges one run; resolves to the verdict's exit code (0 pass, 99 fail, others for no data / unreachable). */
export type Judge = (request: JudgeRequest) => Promise<number>;

/**
 * The verdict of cli/verdict/verdict.ts, adapted to the CLI: the test's thresholds (none when the run is not tied to a
 * configured test: then only "no data" / "unreachable" can be told apart from a vacuous pass, and a note says so).
 */
export const defaultJudge: Judge = async (req) => {
  const thresholds = req.thresholds ?? req.test?.thresholds ?? {};
  if (req.quiet !== true && req.testNote !== undefined) req.out.write(req.out.colors.yellow(`note: ${req.testNote}\n`));
  const verdict = await evaluateVerdict(req.prometheusUrl, req.testid, thresholds, {
    now: req.now.getTime(),
    trends: req.trends ?? 'native',
    ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
  });
  if (req.quiet !== true) {
    const c = req.out.colors;
    const text = formatVerdict(verdict)
      .replace(/\bFAIL\b/g, c.red('FAIL'))
      .replace(/\bpass\b/g, c.green('pass'));
    req.out.write(`${text}\n`);
    if (verdict.rows.length === 0 && verdict.status === 'pass') {
      req.out.write(
        c.yellow(
          req.test === undefined
            ? `note: run ${req.testid} is tied to no configured test (use --test); no thresholds judged\n`
            : `note: test ${req.test.name} declares no thresholds (neither in its config nor in its script's options)\n`,
        ),
      );
    }
  }
  return verdict.exitCode;
};
