import {
  abortDue,
  abortOnFailThresholds,
  abortQueries,
  abortThresholdName,
  firstAbortCrossing,
  K6_THRESHOLD_ABORT_EXIT_CODE,
} from '../src/k6/abort-thresholds';
import { thresholdQuery } from '../src/k6/threshold-queries';
import type { ThresholdsConfig } from '../src/k6/threshold-grammar';

const THRESHOLDS: ThresholdsConfig = {
  http_req_duration: ['p(95)<500', { threshold: 'p(99)<900', abortOnFail: true, delayAbortEval: '10s' }],
  http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true }],
  http_reqs: [{ threshold: 'count>100', abortOnFail: false }],
};

describe('abortOnFailThresholds', () => {
  test('keeps only the abortOnFail thresholds, in the order declared, with their delay in ms', () => {
    const ts = abortOnFailThresholds(THRESHOLDS);
    expect(ts.map((t) => [abortThresholdName(t), t.delayAbortEvalMs])).toEqual([
      ['http_req_duration p(99)<900', 10_000],
      ['http_req_failed rate<0.01', undefined],
    ]);
  });
});

describe('abortDue', () => {
  // k6 v1.7.1 metrics/thresholds.go runAll: Abort = !AbortGracePeriod.Valid || AbortGracePeriod < timeSpentInTest
  test('without delayAbortEval at once; with it only strictly after the delay', () => {
    const [delayed, immediate] = abortOnFailThresholds(THRESHOLDS);
    expect(abortDue(immediate!, 0)).toBe(true);
    expect(abortDue(delayed!, 9_999)).toBe(false);
    expect(abortDue(delayed!, 10_000)).toBe(false);
    expect(abortDue(delayed!, 10_001)).toBe(true);
  });
});

describe('abortQueries', () => {
  test('the observed PromQL is the verdict query over the window; crossed negates the operator with bool', () => {
    const scope = { testid: 'web-20261125-120000', window: 120, elapsedSeconds: 60 };
    const [p99, failed] = abortQueries(THRESHOLDS, scope);
    const verdict = thresholdQuery(abortOnFailThresholds(THRESHOLDS)[0]!, { testid: scope.testid, window: 120, durationSeconds: 60 });
    expect(p99!.observed).toBe(verdict.promql);
    expect(p99!.crossed).toBe(`(${verdict.promql}) >= bool 900`);
    expect(failed!.crossed).toBe(`(${failed!.observed}) >= bool 0.01`);
    expect(failed!.observed).toContain('[120s]');
  });

  test.each([
    ['p(95)<5', '>='],
    ['p(95)<=5', '>'],
    ['count>5', '<='],
    ['count>=5', '<'],
    ['count==5', '!='],
    ['count!=5', '=='],
  ])('%s fails when %s', (expr, op) => {
    const metric = expr.startsWith('p') ? 'http_req_duration' : 'http_reqs';
    const [q] = abortQueries({ [metric]: [{ threshold: expr, abortOnFail: true }] }, { testid: 'r', window: 10, elapsedSeconds: 10 });
    expect(q!.crossed.endsWith(`) ${op} bool 5`)).toBe(true);
  });

  test('placeholders stay in the PromQL for the starter to fill in at run time', () => {
    const [, failed] = abortQueries(
      { ...THRESHOLDS, http_reqs: [{ threshold: 'rate>5', abortOnFail: true }] },
      { testid: '@TESTID@', window: '@WINDOW@s', elapsedSeconds: '@ELAPSED@' },
    );
    expect(failed!.observed).toContain('testid="@TESTID@"');
    expect(failed!.observed).toContain('[@WINDOW@s]');
    const rate = abortQueries(
      { http_reqs: [{ threshold: 'rate>5', abortOnFail: true }] },
      { testid: 'r', window: '@WINDOW@s', elapsedSeconds: '@ELAPSED@' },
    );
    expect(rate[0]!.observed).toMatch(/\/ @ELAPSED@$/);
  });
});

describe('firstAbortCrossing', () => {
  const observeBy =
    (values: Record<string, number | undefined>, seen: string[] = []) =>
    async (promql: string) => {
      seen.push(promql);
      const key = Object.keys(values).find((k) => promql.includes(k));
      return key === undefined ? undefined : values[key];
    };

  test('returns the first due threshold that fails, with its observed value', async () => {
    const seen: string[] = [];
    const c = await firstAbortCrossing(
      THRESHOLDS,
      { testid: 'r', window: 60, elapsedMs: 20_000 },
      observeBy({ histogram_quantile: 950, k6_http_req_failed: 0.2 }, seen),
    );
    expect(c).toEqual({ threshold: abortOnFailThresholds(THRESHOLDS)[0], observed: 950, elapsedMs: 20_000 });
    expect(seen).toHaveLength(1);
  });

  test('a threshold inside its delay is not queried; the next one is', async () => {
    const seen: string[] = [];
    const c = await firstAbortCrossing(
      THRESHOLDS,
      { testid: 'r', window: 60, elapsedMs: 10_000 },
      observeBy({ histogram_quantile: 950, k6_http_req_failed: 0.2 }, seen),
    );
    expect(abortThresholdName(c!.threshold)).toBe('http_req_failed rate<0.01');
    expect(c!.observed).toBe(0.2);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain('k6_http_req_failed');
  });

  test('no sample and NaN pass (k6 skips an empty sink); values within the limit pass', async () => {
    expect(await firstAbortCrossing(THRESHOLDS, { testid: 'r', window: 60, elapsedMs: 20_000 }, observeBy({}))).toBeUndefined();
    expect(
      await firstAbortCrossing(
        THRESHOLDS,
        { testid: 'r', window: 60, elapsedMs: 20_000 },
        observeBy({ histogram_quantile: NaN, k6_http_req_failed: 0.005 }),
      ),
    ).toBeUndefined();
  });

  test('a test without abortOnFail thresholds queries nothing', async () => {
    const seen: string[] = [];
    expect(await firstAbortCrossing({ http_reqs: ['count>1'] }, { testid: 'r', window: 60, elapsedMs: 1 }, observeBy({}, seen))).toBeUndefined();
    expect(seen).toEqual([]);
  });

  test("the exit code is k6's ThresholdsHaveFailed", () => {
    expect(K6_THRESHOLD_ABORT_EXIT_CODE).toBe(99);
  });
});
