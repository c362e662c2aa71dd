/**
 * The verdict's validity checks (cli/verdict/validity.ts) against the real Prometheus harness: synthetic k6 runs
 * (test/support/k6-run.ts) plus cAdvisor-shaped series for the runner pods, written by remote write. cAdvisor's names
 * and labels are those kube-prometheus-stack's kubelet ServiceMonitor scrapes: `container_cpu_cfs_periods_total`,
 * `container_cpu_cfs_throttled_periods_total`, `container_memory_working_set_bytes` with `namespace`, `pod`,
 * `container` (the dashboards' runner panels read the same).
 */
import { validitySchema } from '@k6-platform/constructs';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { evaluateVerdict, VERDICT_EXIT_CODES, formatVerdict } from '../../cli/verdict/verdict';
import { validityInput, type ValidityInput } from '../../cli/verdict/validity';
import { junitXml } from '../../cli/verdict/junit';
import { verdictJson } from '../../cli/verdict/json';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/index';
import { bufferOutput } from '../../cli/output';
import { pushK6Run, type K6RunTruth } from '../support/k6-run';
import { pushSeries, type RemoteWriteSeries } from '../support/remote-write';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus';

let prom: PrometheusHandle;
const now = Date.now();
const GI = 1024 ** 3;
const runs = new Map<string, K6RunTruth>();

/** A counter growing by `perSecond` every 5 s over the run. */
function counter(run: K6RunTruth, perSecond: number): { value: number; timestamp: number }[] {
  const out: { value: number; timestamp: number }[] = [];
  for (let t = run.start, v = 0; t <= run.end; t += 5000, v += perSecond * 5) out.push({ value: v, timestamp: t });
  return out;
}

/** cAdvisor series of one container of a runner pod: CFS periods (10/s: the 100 ms period), throttled ones, working set. */
function cadvisor(run: K6RunTruth, pod: string, container: string, throttledShare: number, workingSetBytes: number): RemoteWriteSeries[] {
  const labels = { namespace: 'k6', pod, container, job: 'kubelet' };
  return [
    { labels: { __name__: 'container_cpu_cfs_periods_total', ...labels }, samples: counter(run, 10) },
    { labels: { __name__: 'container_cpu_cfs_throttled_periods_total', ...labels }, samples: counter(run, 10 * throttledShare) },
    {
      labels: { __name__: 'container_memory_working_set_bytes', ...labels },
      samples: counter(run, 0).map((s) => ({ ...s, value: workingSetBytes })),
    },
  ];
}

/**
 * kube-state-metrics 2.20.0 series of a pod (internal/store/pod.go: `namespace`, `pod`, `uid` from `wrapPodFunc`, plus
 * the family's own labels; value 1 while the state holds), scraped with `honorLabels: true` as kube-prometheus-stack
 * 88.5.3 configures it, so `namespace` and `pod` are the pod's.
 */
function kubeStateMetrics(run: K6RunTruth, name: string, labels: Record<string, string>, fromShare = 0.5): RemoteWriteSeries {
  const samples = counter(run, 0)
    .filter((s) => s.timestamp >= run.start + (run.end - run.start) * fromShare)
    .map((s) => ({ ...s, value: 1 }));
  return { labels: { __name__: name, namespace: 'k6', uid: `uid-${labels.pod}`, job: 'kube-state-metrics', ...labels }, samples };
}

const validity = validitySchema.parse({});
const input = (over: Partial<ValidityInput> = {}): ValidityInput => ({
  validity,
  plannedRunners: 2,
  namespace: 'k6',
  memoryLimitBytes: 2 * GI,
  ...over,
});

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  const push = async (testid: string, end: number, extra: Parameters<typeof pushK6Run>[1] extends infer O ? Partial<O> : never) => {
    const run = await pushK6Run(prom.writeUrl, { testid, runners: 2, durationSeconds: 60, endTime: now - end, ...extra });
    runs.set(testid, run);
    return run;
  };
  const healthy = await push('healthy', 100_000, {});
  const dropped = await push('dropped', 200_000, { droppedIterations: [60, 60] });
  await push('missing', 300_000, {});
  const starved = await push('starved', 400_000, {});
  await push('bare', 500_000, {});
  await push('short', 600_000, {});
  const oom = await push('oom', 700_000, {});
  const evicted = await push('evicted', 800_000, {});
  await pushSeries(prom.writeUrl, [
    ...cadvisor(healthy, 'healthy-runner-0-a1b2c', 'k6', 0.05, 0.5 * GI),
    ...cadvisor(healthy, 'healthy-runner-1-d3e4f', 'k6', 0.1, 0.6 * GI),
    // the starter beside runner 0 and the stop Job are not runners: their throttling must not count
    ...cadvisor(healthy, 'healthy-runner-0-a1b2c', 'starter', 0.9, 60 * 1024 ** 2),
    ...cadvisor(healthy, 'healthy-stop-x9y8z', 'k6', 0.9, 0.1 * GI),
    ...cadvisor(dropped, 'dropped-runner-0-a1b2c', 'k6', 0, 0.5 * GI),
    ...cadvisor(starved, 'starved-runner-0-a1b2c', 'k6', 0.4, 1.9 * GI),
    ...cadvisor(starved, 'starved-runner-1-d3e4f', 'k6', 0.02, 0.4 * GI),
    // runner 1 OOM-killed half way; the starter beside runner 0 ending "Completed" and a stop pod OOM-killed are no reason
    kubeStateMetrics(oom, 'kube_pod_container_status_terminated_reason', { pod: 'oom-runner-1-d3e4f', container: 'k6', reason: 'OOMKilled' }),
    kubeStateMetrics(oom, 'kube_pod_container_status_terminated_reason', { pod: 'oom-runner-0-a1b2c', container: 'starter', reason: 'Completed' }),
    kubeStateMetrics(oom, 'kube_pod_container_status_terminated_reason', { pod: 'oom-stop-x9y8z', container: 'k6', reason: 'OOMKilled' }),
    // runner 0 evicted (the pod's status reason and its DisruptionTarget condition), runner 1's pod reason "Other" is not eviction
    kubeStateMetrics(evicted, 'kube_pod_status_reason', { pod: 'evicted-runner-0-a1b2c', reason: 'Evicted' }),
    kubeStateMetrics(evicted, 'kube_pod_status_disruption_reason', { pod: 'evicted-runner-0-a1b2c', reason: 'EvictionByEvictionAPI' }),
    kubeStateMetrics(evicted, 'kube_pod_status_reason', { pod: 'evicted-runner-1-d3e4f', reason: 'NodeAffinity' }),
  ]);
}, 120_000);
afterAll(async () => prom?.stop());

const judge = (testid: string, v: ValidityInput | undefined, thresholds: Record<string, string[]> = { http_reqs: ['count>0'] }) =>
  evaluateVerdict(prom.url, testid, thresholds, { now, ...(v !== undefined ? { validity: v } : {}) });

describe('validity of a run, over all runners', () => {
  test('a healthy run passes: no reason, every check made (the starter and the stop pod are not runners)', async () => {
    const v = await judge('healthy', input());
    expect(v.status).toBe('pass');
    expect(v.exitCode).toBe(0);
    expect(v.validity).toEqual({ reasons: [], unchecked: [] });
  });

  test('dropped iterations beyond the share: INCONCLUSIVE (exit 5), the share computed from the counters', async () => {
    const run = runs.get('dropped')!;
    const v = await judge('dropped', input());
    expect(v.status).toBe('inconclusive');
    expect(v.exitCode).toBe(VERDICT_EXIT_CODES.inconclusive);
    expect(VERDICT_EXIT_CODES.inconclusive).toBe(5);
    const share = run.totals.droppedIterations / (run.totals.droppedIterations + run.totals.iterations);
    expect(v.validity?.reasons).toEqual([
      expect.objectContaining({ check: 'dropped-iterations', limit: 0.01, observed: expect.closeTo(share, 9) as number }),
    ]);
    expect(v.rows.every((r) => r.pass)).toBe(true);
    // a higher limit accepts the same run
    expect((await judge('dropped', input({ validity: { ...validity, maxDroppedIterations: 0.2 } }))).status).toBe('pass');
  });

  test('fewer runners reported than planned', async () => {
    const v = await judge('missing', input({ plannedRunners: 3 }));
    expect(v.status).toBe('inconclusive');
    expect(v.validity?.reasons).toEqual([
      { check: 'runners', observed: 2, limit: 3, message: "2 of 3 planned runners reported: the missing ones' share of the load was never offered" },
    ]);
  });

  test('a throttled runner and one near its memory limit: both reasons, naming the pod', async () => {
    const v = await judge('starved', input());
    expect(v.status).toBe('inconclusive');
    const reasons = v.validity?.reasons ?? [];
    expect(reasons.map((r) => r.check)).toEqual(['cpu-throttled', 'memory']);
    expect(reasons[0]!.observed).toBeCloseTo(0.4, 2);
    expect(reasons[0]!.message).toContain('runner pod starved-runner-0-a1b2c was CPU-throttled in 40');
    expect(reasons[1]!.observed).toBeCloseTo(0.95, 6);
    expect(reasons[1]!.message).toContain('runner pod starved-runner-0-a1b2c peaked at 95 % of its memory limit');
    // every output says the same: the text, --json and --junit
    const text = formatVerdict(v);
    expect(text).toContain('verdict: INCONCLUSIVE (all 1 thresholds held, but the runners were starved');
    expect(text).toContain(`  reason: ${reasons[0]!.message}`);
    const json = verdictJson({ testid: 'starved', test: 'starved', prometheus: prom.url, exitCode: v.exitCode, verdict: v, notes: [] });
    expect(json.status).toBe('inconclusive');
    expect(json.exitCode).toBe(5);
    expect(json.validity?.reasons.map((r) => r.check)).toEqual(['cpu-throttled', 'memory']);
    const xml = junitXml([{ testid: 'starved', test: 'starved', timestamp: new Date(now), verdict: v }]);
    expect(xml).toContain('<testcase name="validity: cpu-throttled" classname="starved" time="0">');
    expect(xml).toContain('<property name="status" value="inconclusive"/>');
    expect(xml).toMatch(/<testsuite name="starved" tests="3" failures="2" errors="0"/);
  });

  test('no cAdvisor series: the resource checks are skipped and said so, never a reason', async () => {
    const v = await judge('bare', input());
    expect(v.status).toBe('pass');
    expect(v.validity?.unchecked).toEqual([
      'CPU throttling: no cAdvisor CFS series for the runner pods',
      'memory: no cAdvisor working-set series for the runner pods',
    ]);
  });

  test('a run shorter than its declared duration, unless an abortOnFail threshold failed', async () => {
    const early = await judge('short', input({ declaredDurationSeconds: 600 }));
    expect(early.status).toBe('inconclusive');
    expect(early.validity?.reasons.map((r) => [r.check, r.limit])).toEqual([['duration', 0.9]]);
    expect(early.validity?.reasons[0]!.observed).toBeCloseTo(runs.get('short')!.durationSeconds / 600, 2);
    // an abortOnFail threshold that failed explains the early end: a plain FAIL
    const aborted = await evaluateVerdict(
      prom.url,
      'short',
      { http_reqs: [{ threshold: 'count<1', abortOnFail: true }] },
      { now, validity: input({ declaredDurationSeconds: 600 }) },
    );
    expect(aborted.status).toBe('fail');
    expect(aborted.validity?.reasons).toEqual([]);
  });

  test('a runner pod OOM-killed or evicted (kube-state-metrics): INCONCLUSIVE, naming the pod and why', async () => {
    const oom = await judge('oom', input());
    expect(oom.status).toBe('inconclusive');
    expect(oom.validity?.reasons).toEqual([
      {
        check: 'runner-terminated',
        observed: 1,
        limit: 0,
        message: '1 runner pod(s) ended by Kubernetes, not by the script: oom-runner-1-d3e4f (OOMKilled): their share of the load stopped early',
      },
    ]);
    const evicted = await judge('evicted', input());
    expect(evicted.validity?.reasons.map((r) => [r.check, r.observed, r.message])).toEqual([
      [
        'runner-terminated',
        1,
        '1 runner pod(s) ended by Kubernetes, not by the script: evicted-runner-0-a1b2c (Evicted, EvictionByEvictionAPI): their share of the load stopped early',
      ],
    ]);
    // runs without such series (healthy) have no such reason: checked by the healthy run above
  });

  test("runner failures `loadtest run` saw in the pods' status are reasons, one each", async () => {
    const v = await judge('healthy', input({ runnerFailures: ['runner 1 (healthy-runner-1-d3e4f): k6 exited 137 (killed (SIGKILL)): OOMKilled'] }));
    expect(v.status).toBe('inconclusive');
    expect(v.exitCode).toBe(5);
    expect(v.validity?.reasons).toEqual([
      {
        check: 'runner-terminated',
        observed: 1,
        limit: 0,
        message: "runner 1 (healthy-runner-1-d3e4f): k6 exited 137 (killed (SIGKILL)): OOMKilled: one of 2 runners' share of the load stopped early",
      },
    ]);
  });

  test('validity off: thresholds alone; and the input of a configured test comes from its config', async () => {
    expect((await judge('dropped', input({ validity: { ...validity, enabled: false } }))).status).toBe('pass');
    const cfg = parsePlatformConfig({
      tests: [{ name: 'web', script: 'sample.js', parallelism: 4, duration: '10m', validity: { maxMemory: 0.8 } }],
    });
    expect(validityInput(cfg, cfg.tests[0]!)).toEqual({
      validity: { ...validity, maxMemory: 0.8 },
      plannedRunners: 4,
      namespace: 'k6',
      memoryLimitBytes: 2 * GI,
      declaredDurationSeconds: 600,
    });
  });

  test('a bad limit is refused with the field named', () => {
    expect(() => parsePlatformConfig({ tests: [{ name: 'web', script: 'sample.js', validity: { maxCpuThrottled: 2 } }] })).toThrow(
      "'tests[0].validity.maxCpuThrottled' must be a number from 0 to 1 (a share of CFS periods)",
    );
  });

  test('verdict and runs from the CLI say the same: inconclusive, exit 5, the reason on stdout', async () => {
    // GIVEN a repository configuring the tests of two of the runs above
    const root = mkdtempSync(path.join(tmpdir(), 'loadtest-validity-'));
    symlinkSync(path.resolve(__dirname, '..', '..', 'scripts'), path.join(root, 'scripts'));
    const test = (name: string) => `    - name: ${name}\n      script: sample.js\n      thresholds: { http_reqs: ["count>0"] }\n`;
    writeFileSync(path.join(root, 'Pulumi.dev.yaml'), `config:\n  k6platform:tests:\n${test('dropped')}${test('healthy')}`);
    const cli = async (argv: string[]) => {
      const out = bufferOutput();
      const code = await runCli(argv, { out, env: {}, rootDir: root, now: () => new Date(now) });
      return { code, stdout: out.out.join(''), stderr: out.err.join('') };
    };
    try {
      // WHEN
      const verdict = await cli(['verdict', '--testid', 'dropped', '--prometheus', prom.url]);
      const runsDoc = await cli(['runs', '--since', '1h', '--prometheus', prom.url, '--json']);
      // THEN
      expect(verdict.code).toBe(5);
      expect(verdict.stdout).toContain('verdict: INCONCLUSIVE (all 1 thresholds held, but the runners were starved');
      expect(verdict.stdout).toMatch(/ {2}reason: 1\d\d iterations dropped \(\d+(\.\d+)? % of \d+, limit 1 %\)/);
      const rows = (JSON.parse(runsDoc.stdout) as { runs: { testid: string; verdict: { status: string; exitCode: number } | null }[] }).runs;
      expect(Object.fromEntries(rows.filter((r) => r.verdict !== null).map((r) => [r.testid, r.verdict]))).toEqual({
        dropped: { status: 'inconclusive', exitCode: 5 },
        healthy: { status: 'pass', exitCode: 0 },
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a run over several clusters is judged over the runners of all of them', () => {
  let eu: K6RunTruth;
  let us: K6RunTruth;
  beforeAll(async () => {
    // GIVEN one run id written by two clusters' runners, each cluster's completion indexes 0 and 1, tagged with its
    // zone and a zone-prefixed instance_id as the runners of a multi-cluster run are (docs/multi-cluster.md)
    const run = { testid: 'multi', runners: 2, durationSeconds: 60, endTime: now - 900_000 } as const;
    eu = await pushK6Run(prom.writeUrl, { ...run, zone: 'eu-west', seed: 1 });
    us = await pushK6Run(prom.writeUrl, { ...run, zone: 'us-east', seed: 2, requestsPerSecond: 5 });
  }, 60_000);

  test('every runner of every cluster counts: 4 of 4 planned reported, the thresholds over the sum', async () => {
    const v = await judge('multi', input({ plannedRunners: 4 }));
    expect(v.status).toBe('pass');
    expect(v.validity?.reasons).toEqual([]);
    expect(v.rows[0]!.observed).toBe(eu.totals.requests + us.totals.requests);
    // AND one runner more than reported is missing: the count is over both clusters, not one
    const five = await judge('multi', input({ plannedRunners: 5 }));
    expect(five.validity?.reasons).toEqual([expect.objectContaining({ check: 'runners', observed: 4, limit: 5 })]);
  });
});
