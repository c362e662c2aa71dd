import type { TestConfig } from '../constructs/src/platform-config';
import type { Output } from './output';

/** What the CLI asks of the verdict: judge one run, print its table, return the exit code. */
export interface JudgeRequest {
  /** Prometheus base URL. */
  readonly prometheusUrl: string;
  /** The run id (k6 `testid` tag). */
  readonly testid: string;
  /** The test whose thresholds apply; undefined when the run cannot be tied to a configured test. */
  readonly test: TestConfig | undefined;
  /** Where the table goes. */
  readonly out: Output;
  /** Evaluation time. */
  readonly now: Date;
  /** Print nothing (the `runs` listing only wants the code). @default false */
  readonly quiet?: boolean;
}

/** Judges one run; resolves to the verdict's exit code (0 pass, 99 fail, others for no data / unreachable). */
export type Judge = (request: JudgeRequest) => Promise<number>;

/** The verdict of cli/verdict.ts, adapted to the CLI. */
export const defaultJudge: Judge = async () => {
  throw new Error('loadtest: the verdict (cli/verdict.ts) is not available yet');
};
