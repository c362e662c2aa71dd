/**
 * The VictoriaMetrics harness against the real VictoriaMetrics 1.145.0: a k6 run remote-written to it is queryable at
 * once (flush + latency offset 0), and it is stored the way VictoriaMetrics v1.145.0 lib/prompb/write_request_unmarshaler.go
 * (`appendTimeSeries`) converts native histograms: `<name>_count`, `<name>_sum` and one `<name>_bucket` series per
 * populated bucket with a `vmrange` label, so the native name itself holds nothing.
 */
import { pushK6Run, type K6RunTruth } from './k6-run';
import { singleValue } from './prometheus';
import { startVictoriaMetrics, type VictoriaMetricsHandle } from './victoria-metrics';

let vm: VictoriaMetricsHandle;
let run: K6RunTruth;

beforeAll(async () => {
  vm = await startVictoriaMetrics();
  // GIVEN a native-mode run of 3 runners for 60 s ending now, with 10 % failures on one of two URLs
  run = await pushK6Run(vm.writeUrl, {
    testid: 'vm-native-1',
    runners: 3,
    durationSeconds: 60,
    urls: [{ url: 'http://target.local/a' }, { url: 'http://target.local/b', failureFraction: 0.1 }],
  });
  await vm.flush();
});
afterAll(() => vm.stop());

test('counters remote-written just now are visible: final request and failure counts match the truth', async () => {
  // WHEN
  const requests = singleValue(await vm.query('sum(last_over_time(k6_http_reqs_total{testid="vm-native-1"}[2m]))', run.end));
  const iterations = singleValue(await vm.query('sum(last_over_time(k6_iterations_total{testid="vm-native-1"}[2m]))', run.end));
  // THEN
  expect(requests).toBe(run.totals.requests);
  expect(iterations).toBe(run.totals.iterations);
  expect(run.totals.failedRequests).toBeGreaterThan(0);
});

test('a native histogram is stored as _count, _sum and vmrange _bucket series; the native name holds no series', async () => {
  // WHEN
  const native = await vm.series('k6_http_req_duration_seconds{testid="vm-native-1"}');
  const buckets = await vm.series('k6_http_req_duration_seconds_bucket{testid="vm-native-1"}');
  const count = singleValue(await vm.query('sum(last_over_time(k6_http_req_duration_seconds_count{testid="vm-native-1"}[2m]))', run.end));
  const sum = singleValue(await vm.query('sum(last_over_time(k6_http_req_duration_seconds_sum{testid="vm-native-1"}[2m]))', run.end));
  // THEN
  expect(native).toEqual([]);
  expect(buckets.length).toBeGreaterThan(10);
  for (const b of buckets) expect(b.vmrange).toMatch(/^\d[\d.e+-]*\.\.\.\d[\d.e+-]*$/);
  expect(buckets.every((b) => b.le === undefined)).toBe(true);
  expect(count).toBe(run.totals.requests);
  const trueSum = run.values('http_req_duration').reduce((a, b) => a + b, 0);
  expect(sum).toBeCloseTo(trueSum, 6);
});

test('histogram_quantile over the native name answers nothing; over the vmrange buckets it is within the bucket error', async () => {
  // WHEN
  const overNative = await vm.query('histogram_quantile(0.95, sum(increase(k6_http_req_duration_seconds{testid="vm-native-1"}[2m])))', run.end);
  const overBuckets = singleValue(
    await vm.query('histogram_quantile(0.95, sum by (vmrange) (increase(k6_http_req_duration_seconds_bucket{testid="vm-native-1"}[2m])))', run.end),
  );
  // THEN k6's native histograms use schema 3 (a bucket spans a factor 2^(1/8), about 9 %)
  expect(overNative.result).toEqual([]);
  const truth = run.quantile(0.95);
  expect(Math.abs(overBuckets - truth) / truth).toBeLessThan(0.09);
});
