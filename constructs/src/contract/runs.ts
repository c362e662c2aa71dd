/**
 * A run as every part of the platform names it: the run-id grammar, the names of its runner Jobs and pods, and THE
 * mapping from a run to its test (shared by `loadtest verdict`, `loadtest runs`, the judge after `loadtest run`).
 */
import { RUN_TAGS } from './labels';
import { promqlString } from './prometheus';

/** Longest run id: it prefixes object names (`<id>-runner`, `<id>-service-<i>`) that must stay within 63 characters. */
export const RUN_ID_MAX = 50;
/** A run id: a DNS-1035 label (lower-case letter first, then letters, digits and `-`, alphanumeric last). */
export const RUN_ID = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A fresh run id: `<test>-<yyyymmdd>-<hhmmss>` in UTC, e.g. `sample-20261125-120830` (`r` in front when the test name
 * starts with a digit; the test part shortened so the id fits `RUN_ID_MAX`).
 */
export function newRunId(test: string, now: Date = new Date()): string {
  const iso = now.toISOString(); // 2026-11-25T12:08:30.123Z
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
  const name = `${/^[0-9]/.test(test) ? 'r' : ''}${test}`.slice(0, RUN_ID_MAX - stamp.length - 1).replace(/-+$/, '');
  return `${name}-${stamp}`;
}

/** Name of the Indexed Job of a run's runners (jobs form). */
export function runnerJobName(runId: string): string {
  return `${runId}-runner`;
}

/**
 * The pod names of a run's runners, as a PromQL regex over `pod` for a run id (a literal or a Grafana variable such as
 * `$testid`). Every form names its runner pods with the run id first: the jobs form's Job `<id>-runner` makes pods
 * `<id>-runner-<index>-<hash>`; a scheduled run's Job is named by its testid, pods `<testid>-<index>-<hash>`; the
 * k6-operator's TestRun `<id>` makes pods `<id>-<index>-<hash>` (k6-operator v1.6.0 pkg/resources/jobs/runner.go).
 * The operator's starter and initializer pods and the stop Job's pod share the prefix: {@link nonRunnerPodPattern}.
 */
export function runnerPodPattern(runId: string): string {
  return `${runId}-.*`;
}

/**
 * The pods of a run that are not runners, as a PromQL regex over `pod`: the k6-operator's `<id>-starter-<hash>` and
 * `<id>-initializer-<hash>` (k6-operator v1.6.0 pkg/resources/jobs/{starter,initializer}.go) and the stop Job's
 * `<id>-stop-<hash>`.
 */
export function nonRunnerPodPattern(runId: string): string {
  return `${runId}-(starter|initializer|stop)-.*`;
}

/** How a run was tied to a configured test (see `pickRunTest`). */
export interface RunTest {
  /** The test name, when known. */
  readonly test?: string;
  /**
   * `label`: the run's `test` label (every runner writes `--tag test=<name>`); `prefix`: no label on the run (written
   * before runners were tagged), the longest configured test name prefixing the run id; `none`: neither.
   */
  readonly source: 'label' | 'prefix' | 'none';
  /** One line for the user when the test was not read from the label. */
  readonly note?: string;
}

/** A run whose series carry more than one `test` label value: its thresholds are ambiguous. */
export class RunTestConflictError extends Error {
  public constructor(
    public readonly testid: string,
    public readonly tests: readonly string[],
  ) {
    super(
      `run ${testid} carries more than one test label (${tests.map((t) => JSON.stringify(t)).join(', ')}): refusing to guess its thresholds; pass --test <name>`,
    );
    this.name = 'RunTestConflictError';
  }
}

/** The longest configured name `n` with the id starting `n-` (or equal to it): only for runs without a `test` label. */
export function longestPrefixTest(testid: string, tests: readonly { readonly name: string }[]): string | undefined {
  return tests
    .map((t) => t.name)
    .filter((n) => testid === n || testid.startsWith(`${n}-`))
    .sort((a, b) => b.length - a.length)[0];
}

/**
 * THE mapping from a run to its test: the run's `test` label values (`labels`: one entry per distinct value seen on
 * its series; "" or absent for series without the label). One value → that test; several →
 * {@link RunTestConflictError}; none → the longest configured name prefixing the run id, with a note saying so (run
 * ids are `<test>-<yyyymmdd>-<hhmmss>`, and test names may prefix each other: `sample`, `sample-operator`).
 */
export function pickRunTest(testid: string, labels: readonly (string | undefined)[], tests: readonly { readonly name: string }[]): RunTest {
  const values = [...new Set(labels.filter((l): l is string => l !== undefined && l !== ''))].sort();
  if (values.length > 1) throw new RunTestConflictError(testid, values);
  if (values.length === 1) return { test: values[0]!, source: 'label' };
  const byPrefix = longestPrefixTest(testid, tests);
  if (byPrefix !== undefined) {
    return {
      test: byPrefix,
      source: 'prefix',
      note: `run ${testid} has no test label (written before runners were tagged): test ${byPrefix} matched by the longest test name prefixing the run id`,
    };
  }
  return { source: 'none', note: `run ${testid} has no test label and no configured test name prefixes it` };
}

/** The query of the `test` label values of one run (k6_vus: every runner writes it, with the run tags). */
export function runTestQuery(testid: string, range = '30d'): string {
  return `group by (${RUN_TAGS.test}) (last_over_time(k6_vus{${RUN_TAGS.testid}=${promqlString(testid)}}[${range}]))`;
}
