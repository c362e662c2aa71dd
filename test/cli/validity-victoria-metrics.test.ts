/**
 * The verdict's validity checks (cli/verdict/validity.ts) on a real VictoriaMetrics 1.145.0 holding what a backend
 * receives: the runners' k6 series and the cAdvisor / kube-state-metrics series of the runner pods that the stack's
 * Prometheus forwards to it (constructs/src/backend/cluster-metrics.ts). The outcomes must be those on Prometheus
 * (test/cli/validity-prometheus.test.ts, whose series shapes these follow).
 */
import { validitySchema } from '@k6-platform/constructs';
import { evaluateVerdict } from '../../cli/verdict/verdict';
import type { ValidityInput } from '../../cli/verdict/validity';
import { pushK6Run, type K6RunTruth } from '../support/k6-run';
import { pushSeries, type RemoteWriteSeries } from '../support/remote-write';
import { startVictoriaMetrics, type VictoriaMetricsHandle } from '../support/victoria-metrics';

let vm: VictoriaMetricsHandle;
const now = Date.now();
const GI = 1024 ** 3;

/** Samples every 5 s over the run: a counter growing by `perSecond`, or a constant gauge. */
function samples(run: K6RunTruth, perSecond: number, constant?: number): { value: number; timestamp: number }[] {
  const out: { value: number; timestamp: number }[] = [];
  for (let t = run.start, v = 0; t <= run.end; t += 5000, v += perSecond * 5) out.push({ value: constant ?? v, timestamp: t });
  return out;
}

/** cAdvisor series of a runner pod's k6 container: CFS periods (10/s), throttled ones, working set. */
function cadvisor(run: K6RunTruth, pod: string, throttledShare: number, workingSetBytes: number): RemoteWriteSeries[] {
  const labels = { namespace: 'k6', pod, container: 'k6', job: 'kubelet' };
  return [
    { labels: { __name__: 'container_cpu_cfs_periods_total', ...labels }, samples: samples(run, 10) },
    { labels: { __name__: 'container_cpu_cfs_throttled_periods_total', ...labels }, samples: samples(run, 10 * throttledShare) },
    { labels: { __name__: 'container_memory_working_set_bytes', ...labels }, samples: samples(run, 0, workingSetBytes) },
  ];
}

/** A kube-state-metrics pod series, 1 from half way through the run. */
function ksm(run: K6RunTruth, name: string, labels: Record<string, string>): RemoteWriteSeries {
  const half = run.start + (run.end - run.start) / 2;
  return {
    labels: { __name__: name, namespace: 'k6', uid: `uid-${labels.pod}`, job: 'kube-state-metrics', ...labels },
    samples: samples(run, 0, 1).filter((s) => s.timestamp >= half),
  };
}

const input: ValidityInput = { validity: validitySchema.parse({}), plannedRunners: 2, namespace: 'k6', memoryLimitBytes: 2 * GI };
const judge = (testid: string) =>
  evaluateVerdict(vm.url, testid, { http_req_duration: ['p(95)<100000'] }, { now, validity: input, dialect: 'victoriametrics' });

beforeAll(async () => {
  vm = await startVictoriaMetrics();
  const push = (testid: string, endAgo: number) => pushK6Run(vm.writeUrl, { testid, runners: 2, durationSeconds: 60, endTime: now - endAgo });
  const healthy = await push('healthy', 100_000);
  const starved = await push('starved', 200_000);
  const oom = await push('oom', 300_000);
  await push('bare', 400_000);
  await pushSeries(vm.writeUrl, [
    ...cadvisor(healthy, 'healthy-runner-0-a1b2c', 0.05, 0.5 * GI),
    ...cadvisor(healthy, 'healthy-runner-1-d3e4f', 0.1, 0.6 * GI),
    ...cadvisor(starved, 'starved-runner-0-a1b2c', 0.4, 1.9 * GI),
    ...cadvisor(starved, 'starved-runner-1-d3e4f', 0.02, 0.4 * GI),
    ksm(oom, 'kube_pod_container_status_terminated_reason', { pod: 'oom-runner-1-d3e4f', container: 'k6', reason: 'OOMKilled' }),
  ]);
  await vm.flush();
});
afterAll(() => vm.stop());

test('a healthy run passes with every check made', async () => {
  const v = await judge('healthy');
  expect([v.status, v.exitCode, v.validity]).toEqual(['pass', 0, { reasons: [], unchecked: [] }]);
});

test('a throttled runner and one near its memory limit: both reasons, naming the pod, with the values of Prometheus', async () => {
  const v = await judge('starved');
  expect(v.status).toBe('inconclusive');
  const reasons = v.validity?.reasons ?? [];
  expect(reasons.map((r) => r.check)).toEqual(['cpu-throttled', 'memory']);
  expect(reasons[0]!.observed).toBeCloseTo(0.4, 2);
  expect(reasons[0]!.message).toContain('runner pod starved-runner-0-a1b2c was CPU-throttled in 40');
  expect(reasons[1]!.observed).toBeCloseTo(0.95, 6);
});

test('an OOM-killed runner makes the run inconclusive', async () => {
  const v = await judge('oom');
  expect(v.status).toBe('inconclusive');
  expect(v.validity?.reasons.map((r) => [r.check, r.message.includes('oom-runner-1-d3e4f')])).toEqual([['runner-terminated', true]]);
});

test('without forwarded cluster series the resource checks are skipped and said so', async () => {
  const v = await judge('bare');
  expect(v.status).toBe('pass');
  expect(v.validity?.unchecked).toEqual([
    'CPU throttling: no cAdvisor CFS series for the runner pods',
    'memory: no cAdvisor working-set series for the runner pods',
  ]);
});
