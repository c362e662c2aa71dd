/**
 * Integration: the pass/fail row of both load-test dashboards and the run list's per-run verdict against a real
 * Prometheus, compared with `evaluateVerdict` (cli/verdict/verdict.ts) on the same data: synthetic k6 runs
 * (test/support/k6-run.ts) plus cAdvisor- and kube-state-metrics-shaped series of their runner pods and Jobs, named and
 * labelled as test/cli/validity-prometheus.test.ts writes them.
 */
import { validitySchema } from '@k6-platform/constructs';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { evaluateVerdict, type Verdict } from '../../cli/verdict/verdict';
import { pushK6Run, type K6RunOptions, type K6RunTruth } from '../../test/support/k6-run';
import { startPrometheus, type PrometheusHandle } from '../../test/support/prometheus';
import { pushSeries, type RemoteWriteSeries } from '../../test/support/remote-write';
import { k6LoadTestClassicDashboard, k6LoadTestDashboard, k6RunsDashboard, SOURCE_VALUES } from '../src';
import { DASHBOARD_THRESHOLDS } from '../src/thresholds-row';
import { validityChecks, VERDICT_VALUE } from '../src/validity-row';
import { evaluate, type TimeWindow } from './grafana-eval';
import { dashboardQueries, type DashboardQuery } from './queries';

const GI = 1024 ** 3;
const LIMIT = 2 * GI;
const now = Date.now();

/** What each run is made of, and what the verdict must say about it. */
interface RunSpec {
  readonly testid: string;
  readonly mode: 'native' | 'classic';
  readonly run?: Partial<K6RunOptions>;
  /** Throttled share and working set (share of LIMIT) per runner pod. */
  readonly pods: readonly (readonly [throttled: number, memory: number])[];
  /** kube_job_spec_completions of the run's runner Job. */
  readonly plannedRunners: number;
  readonly oomKilledPod?: number;
  readonly expected: Verdict['status'];
  readonly reasons: readonly string[];
}

const FAILING_URL = { urls: [{ url: 'http://target.local/', failureFraction: 0.1 }] };
const RUNS: readonly RunSpec[] = [
  {
    testid: 'clean',
    mode: 'native',
    pods: [
      [0.05, 0.5],
      [0.1, 0.6],
    ],
    plannedRunners: 2,
    expected: 'pass',
    reasons: [],
  },
  {
    testid: 'failing',
    mode: 'native',
    run: FAILING_URL,
    pods: [
      [0.05, 0.5],
      [0.1, 0.6],
    ],
    plannedRunners: 2,
    expected: 'fail',
    reasons: [],
  },
  {
    testid: 'starved',
    mode: 'native',
    pods: [
      [0.4, 0.95],
      [0.02, 0.4],
    ],
    plannedRunners: 2,
    expected: 'inconclusive',
    reasons: ['cpu-throttled', 'memory'],
  },
  {
    testid: 'missing',
    mode: 'native',
    pods: [
      [0.05, 0.5],
      [0.1, 0.6],
    ],
    plannedRunners: 3,
    expected: 'inconclusive',
    reasons: ['runners'],
  },
  {
    testid: 'dropped',
    mode: 'native',
    run: { droppedIterations: [60, 60] },
    pods: [
      [0.05, 0.5],
      [0.1, 0.6],
    ],
    plannedRunners: 2,
    expected: 'inconclusive',
    reasons: ['dropped-iterations'],
  },
  // failing thresholds and an OOM-killed runner: INCONCLUSIVE wins over FAIL
  {
    testid: 'oom',
    mode: 'native',
    run: FAILING_URL,
    pods: [
      [0.05, 0.5],
      [0.1, 0.6],
    ],
    plannedRunners: 2,
    oomKilledPod: 1,
    expected: 'inconclusive',
    reasons: ['runner-terminated'],
  },
  // a threshold without data fails (the script has no checks: `checks rate>0.99` observes nothing)
  {
    testid: 'no-checks',
    mode: 'native',
    run: { checks: [] },
    pods: [
      [0.05, 0.5],
      [0.1, 0.6],
    ],
    plannedRunners: 2,
    expected: 'fail',
    reasons: [],
  },
  {
    testid: 'classic-ok',
    mode: 'classic',
    pods: [
      [0.05, 0.5],
      [0.1, 0.6],
    ],
    plannedRunners: 2,
    expected: 'pass',
    reasons: [],
  },
  {
    testid: 'classic-failing',
    mode: 'classic',
    run: FAILING_URL,
    pods: [
      [0.05, 0.5],
      [0.1, 0.6],
    ],
    plannedRunners: 2,
    expected: 'fail',
    reasons: [],
  },
  {
    testid: 'classic-starved',
    mode: 'classic',
    pods: [
      [0.3, 0.5],
      [0.02, 0.4],
    ],
    plannedRunners: 2,
    expected: 'inconclusive',
    reasons: ['cpu-throttled'],
  },
];

/** Samples every 5 s over the run: a counter growing by `perSecond`, or a constant. */
function samples(run: K6RunTruth, value: (seconds: number) => number): { value: number; timestamp: number }[] {
  const out: { value: number; timestamp: number }[] = [];
  for (let t = run.start; t <= run.end; t += 5000) out.push({ value: value((t - run.start) / 1000), timestamp: t });
  return out;
}

/** cAdvisor series of a run's runner pods (k6 container) and kube-state-metrics series of its runner Job and pods. */
function clusterSeries(spec: RunSpec, run: K6RunTruth): RemoteWriteSeries[] {
  const out: RemoteWriteSeries[] = [];
  spec.pods.forEach(([throttled, memory], i) => {
    const labels = { namespace: 'k6', pod: `${spec.testid}-runner-${i}-x${i}b7c`, container: 'k6', job: 'kubelet' };
    out.push(
      { labels: { __name__: 'container_cpu_cfs_periods_total', ...labels }, samples: samples(run, (s) => s * 10) },
      { labels: { __name__: 'container_cpu_cfs_throttled_periods_total', ...labels }, samples: samples(run, (s) => s * 10 * throttled) },
      { labels: { __name__: 'container_memory_working_set_bytes', ...labels }, samples: samples(run, () => memory * LIMIT) },
      { labels: { __name__: 'container_spec_memory_limit_bytes', ...labels }, samples: samples(run, () => LIMIT) },
    );
    if (spec.oomKilledPod === i) {
      out.push({
        labels: {
          __name__: 'kube_pod_container_status_terminated_reason',
          ...labels,
          job: 'kube-state-metrics',
          uid: `uid-${i}`,
          reason: 'OOMKilled',
        },
        samples: samples(run, () => 1).slice(-4),
      });
    }
  });
  // kube-state-metrics v2.20.0 internal/store/job.go: `namespace` and `job_name` of the Job (honorLabels)
  out.push({
    labels: { __name__: 'kube_job_spec_completions', namespace: 'k6', job_name: `${spec.testid}-runner`, job: 'kube-state-metrics' },
    samples: samples(run, () => spec.plannedRunners),
  });
  return out;
}

let prom: PrometheusHandle;
const verdicts = new Map<string, Verdict>();
const validity = validitySchema.parse({});

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  let end = now - 60_000;
  for (const spec of RUNS) {
    const run = await pushK6Run(prom.writeUrl, { runners: 2, durationSeconds: 60, ...spec.run, testid: spec.testid, mode: spec.mode, endTime: end });
    await pushSeries(prom.writeUrl, clusterSeries(spec, run));
    end -= 120_000;
  }
  for (const spec of RUNS) {
    verdicts.set(
      spec.testid,
      await evaluateVerdict(prom.url, spec.testid, DASHBOARD_THRESHOLDS, {
        now,
        trends: spec.mode,
        validity: { validity, plannedRunners: spec.plannedRunners, namespace: 'k6', memoryLimitBytes: LIMIT },
      }),
    );
  }
}, 180_000);
afterAll(async () => prom?.stop());

const STATUS_OF_VALUE = Object.fromEntries(Object.entries(VERDICT_VALUE).map(([k, v]) => [v, k]));
// this Prometheus has no recording rules, and the verdict then reads the raw series: so does the native dashboard here
// (test/cli/run-totals-prometheus.test.ts compares both over recorded run totals)
const vars = (testid: string) => ({
  datasource: 'prometheus',
  testid,
  runner_namespace: 'k6',
  scenario: '.*',
  name: '.*',
  source: SOURCE_VALUES.raw,
});

/** The dashboard's queries of a panel evaluated for one run over `w`. */
async function panel(queries: DashboardQuery[], title: string, testid: string, w: TimeWindow) {
  const mine = queries.filter((q) => q.source === title);
  if (mine.length === 0) throw new Error(`no panel ${title}`);
  return Promise.all(mine.map((q) => evaluate(prom, q, vars(testid), w)));
}

/** What a dashboard shows for a run: the verdict, the reasons' checks, each check's OK / INCONCLUSIVE. */
async function shown(queries: DashboardQuery[], testid: string, w: TimeWindow, titles: { verdict: string; reasons: string }) {
  const [verdict] = await panel(queries, titles.verdict, testid, w);
  const values = verdict!.series.map((s) => Number(s.value![1]));
  const checks = validityChecks();
  const reasons = (await panel(queries, titles.reasons, testid, w))
    .map((e, i) => [checks[i]!.check, e.series.length] as const)
    .filter(([, n]) => n > 0)
    .map(([c]) => c);
  return { status: values.map((v) => STATUS_OF_VALUE[v]), reasons };
}

const windowOf = (v: Verdict, pad = 0): TimeWindow => ({ from: v.window!.start - pad, to: v.window!.end + pad, stepSeconds: 15, rateInterval: '1m' });

describe('the pass/fail row says what loadtest verdict says', () => {
  test.each(RUNS.map((r) => [r.testid, r] as const))('%s', async (testid, spec) => {
    // GIVEN the verdict of the run on the same data
    const v = verdicts.get(testid)!;
    expect({ status: v.status, reasons: v.validity!.reasons.map((r) => r.check) }).toEqual({ status: spec.expected, reasons: spec.reasons });
    // WHEN the load-test dashboard of its trend mode shows the run over the verdict's window
    const d = spec.mode === 'native' ? k6LoadTestDashboard() : k6LoadTestClassicDashboard();
    const queries = dashboardQueries(d);
    const seen = await shown(queries, testid, windowOf(v), { verdict: 'Verdict', reasons: 'Why inconclusive' });
    // THEN it shows the same status and the same reasons
    expect(seen).toEqual({ status: [spec.expected], reasons: spec.reasons });
    // AND each check's panel is INCONCLUSIVE exactly for the verdict's reasons, its observed value the verdict's
    const round = (x: number) => Number(x.toFixed(6));
    const panels: { check: string; flag: number[]; observed: number[] }[] = [];
    for (const c of validityChecks()) {
      const [flag] = await panel(queries, c.title, testid, windowOf(v));
      const [observed] = await panel(queries, `${c.title} (observed)`, testid, windowOf(v));
      const values = (e: typeof flag) => e!.series.map((s) => round(Number(s.value![1])));
      const failed = values(flag)[0] === 1;
      // the observed value of a failing check is the verdict's (of a passing one: shown, compared above by the flag)
      panels.push({ check: c.check, flag: values(flag), observed: failed ? values(observed) : [] });
    }
    const reasonOf = (check: string) => v.validity!.reasons.find((r) => r.check === check);
    expect(panels).toEqual(
      validityChecks().map((c) => ({
        check: c.check,
        flag: [reasonOf(c.check) ? 1 : 0],
        observed: reasonOf(c.check) ? [round(reasonOf(c.check)!.observed)] : [],
      })),
    );
  });
});

describe('the run list shows each run with the verdict of loadtest verdict', () => {
  test.each(RUNS.map((r) => [r.testid, r] as const))('%s, in a range wider than the run', async (testid, spec) => {
    // GIVEN the run list's repeated row for this run (Grafana sets $testid to it), over a range starting an hour
    // before the run and ending ten minutes after it
    const queries = dashboardQueries(k6RunsDashboard());
    const v = verdicts.get(testid)!;
    const w = { ...windowOf(v), from: v.window!.start - 3_600_000, to: v.window!.end + 600_000 };
    // WHEN / THEN
    expect(await shown(queries, testid, w, { verdict: 'Verdict of $testid', reasons: 'Why $testid is inconclusive' })).toEqual({
      status: [spec.expected],
      reasons: spec.reasons,
    });
  });
});
