import { execFileSync } from 'node:child_process';
import { monitoringValues } from '../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../constructs/src/config/platform-config';
import { pushK6Run, type K6RunTruth } from './support/k6-run';
import {
  DEFAULT_PROMETHEUS_BINARY,
  prometheusFlags,
  singleValue,
  startPrometheus,
  type PrometheusHandle,
  type PrometheusSpecValues,
} from './support/prometheus';
import { bucketErrorBound, decodeWriteRequest, encodeWriteRequest, NativeHistogramBuilder, pushSeries } from './support/remote-write';

const spec = monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec;
const BOUND = bucketErrorBound(3);

describe('prometheusFlags', () => {
  test('derives the flags from the construct values the way prometheus-operator does', () => {
    // WHEN
    const flags = prometheusFlags(spec);
    // THEN
    expect(flags).toEqual([
      '--web.enable-remote-write-receiver',
      '--enable-feature=native-histograms',
      '--storage.tsdb.retention.time=15d',
      '--storage.tsdb.retention.size=45GB',
    ]);
  });

  test('follows the values: receiver off, no features, other retention', () => {
    // GIVEN
    const cfg = parsePlatformConfig({ monitoring: { prometheus: { retention: '2d', retentionSize: '512MiB' } } });
    const changed: PrometheusSpecValues = {
      ...monitoringValues(cfg).prometheus.prometheusSpec,
      enableRemoteWriteReceiver: false,
      enableFeatures: [],
    };
    // WHEN
    const flags = prometheusFlags(changed);
    // THEN
    expect(flags).toEqual(['--storage.tsdb.retention.time=2d', '--storage.tsdb.retention.size=512MiB']);
  });

  test('refuses a spec key it has no mapping for', () => {
    expect(() => prometheusFlags({ ...spec, walCompression: true })).toThrow(
      "prometheusFlags: 'prometheusSpec.walCompression' has no mapping to a Prometheus flag; map it in prometheusFlags() or list it in SPEC_KEYS_NOT_APPLIED (test/support/prometheus.ts)",
    );
  });
});

describe('startPrometheus', () => {
  test('fails with an install hint when the binary is missing', async () => {
    await expect(startPrometheus({ spec, binary: '/nonexistent/prometheus' })).rejects.toThrow(
      'startPrometheus: Prometheus binary not found at /nonexistent/prometheus; install with apt-get install prometheus (see .ci/setup)',
    );
  });
});

describe('remote-write encoder', () => {
  test('encodes a native histogram with spans and delta-encoded counts', () => {
    // GIVEN observations 1, 1 (bucket 0), 1.1 (bucket 2) and 2 (bucket 8) at schema 3
    const h = NativeHistogramBuilder.of([1, 1, 1.1, 2], 1000);
    // WHEN
    const decoded = decodeWriteRequest(encodeWriteRequest([{ labels: { b: '2', __name__: 'x', a: '1', empty: '' }, histograms: [h] }]));
    // THEN
    const ts = (decoded.timeseries as { labels: unknown; histograms: Record<string, unknown>[] }[])[0]!;
    expect(ts.labels).toEqual([
      { name: '__name__', value: 'x' },
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
    ]);
    const hist = ts.histograms[0]!;
    expect(hist.count_int).toBe(4);
    expect(hist.sum).toBeCloseTo(5.1, 10);
    expect(hist.schema).toBe(3);
    expect(hist.zero_count_int).toBe(0);
    expect(hist.positive_spans).toEqual([
      { offset: 0, length: 1 },
      { offset: 1, length: 1 },
      { offset: 5, length: 1 },
    ]);
    expect(hist.positive_deltas).toEqual([2, -1, 0]);
    expect(hist.timestamp).toBe(1000);
  });

  test('the documented bucket error bound of schema 3 is 2^(1/8) - 1', () => {
    expect(BOUND).toBeCloseTo(0.0905, 4);
  });
});

describe('Prometheus with the construct flags', () => {
  let prom: PrometheusHandle;
  let native: K6RunTruth;
  let classic: K6RunTruth;
  const at = (t: K6RunTruth) => t.end;
  const window = (t: K6RunTruth) => `${Math.ceil(t.durationSeconds)}s`;
  const q = async (expr: string, t: K6RunTruth) => singleValue(await prom.query(expr, at(t)));

  beforeAll(async () => {
    prom = await startPrometheus({ spec });
    const shape = {
      runners: 3,
      scenarios: ['browse', 'api'],
      urls: [{ url: 'http://t/a' }, { url: 'http://t/b', failureFraction: 0.1 }, { url: 'http://t/c', method: 'POST', failureFraction: 0.02 }],
      durationSeconds: 120,
      requestsPerSecond: [20, 20, 5],
      latency: [{ medianMs: 80 }, { medianMs: 100 }, { medianMs: 900, sigma: 0.3 }],
      droppedIterations: [0, 3, 40],
    };
    native = await pushK6Run(prom.writeUrl, { testid: 'harness-native', ...shape });
    classic = await pushK6Run(prom.writeUrl, { testid: 'harness-classic', mode: 'classic', ...shape });
  });
  afterAll(() => prom.stop());

  test('runs the Prometheus it was given: PROMETHEUS_BIN (npm run test:prometheus3: 3.5.3), else the Debian 2.42', async () => {
    // GIVEN the version the binary reports for itself
    const binary = process.env.PROMETHEUS_BIN ?? DEFAULT_PROMETHEUS_BINARY;
    const own = /version (\d+\.\d+\.\d+)/.exec(execFileSync(binary, ['--version'], { encoding: 'utf8' }))?.[1];
    // WHEN the running server is asked (GET /api/v1/status/buildinfo)
    const info = (await (await fetch(`${prom.url}/api/v1/status/buildinfo`)).json()) as { data: { version: string } };
    // THEN they are the same, and one of the two versions the tests are meant to run on
    expect(info.data.version.replace(/\+.*$/, '')).toBe(own);
    expect(['2.42.0', '3.5.3']).toContain(own);
  });

  test('native histograms are stored as histograms', async () => {
    // WHEN
    const data = await prom.query('k6_http_req_duration_seconds{testid="harness-native"}', native.end);
    // THEN
    const result = data.result as { metric: Record<string, string>; histogram?: unknown }[];
    expect(result.length).toBeGreaterThan(0);
    expect(result.every((r) => r.histogram !== undefined)).toBe(true);
  });

  test.each([
    ['rate', 'rate'],
    ['increase', 'increase'],
  ])('histogram_quantile(0.95, sum(%s(...[run window]))) is within the bucket error of the true p95', async (_, fn) => {
    // WHEN
    const observed = await q(
      `histogram_quantile(0.95, sum(${fn}(k6_http_req_duration_seconds{testid="harness-native"}[${window(native)}])))`,
      native,
    );
    // THEN
    const truth = native.quantile(0.95);
    expect(Math.abs(observed / truth - 1)).toBeLessThan(BOUND);
  });

  test('the p95 over the last minute (rate[1m]) is within the bucket error of the true p95 (stationary data)', async () => {
    const observed = await q('histogram_quantile(0.95, sum(rate(k6_http_req_duration_seconds{testid="harness-native"}[1m])))', native);
    expect(Math.abs(observed / native.quantile(0.95) - 1)).toBeLessThan(BOUND);
  });

  test('filtered quantiles match the truth of the same filter', async () => {
    for (const [filter, sel] of [
      [{ scenario: 'api' }, 'scenario="api"'],
      [{ url: 'http://t/c' }, 'url="http://t/c"'],
      [{ runner: 2 }, 'instance_id="2"'],
    ] as const) {
      const observed = await q(
        `histogram_quantile(0.9, sum(increase(k6_http_req_duration_seconds{testid="harness-native",${sel}}[${window(native)}])))`,
        native,
      );
      expect({ sel, ok: Math.abs(observed / native.quantile(0.9, filter) - 1) < BOUND }).toEqual({ sel, ok: true });
    }
  });

  test('counters sum to the true totals over all runners', async () => {
    const last = (m: string, extra = '') => `sum(last_over_time(${m}{testid="harness-native"${extra}}[${window(native)}]))`;
    expect(await q(last('k6_http_reqs_total'), native)).toBe(native.totals.requests);
    expect(await q(last('k6_http_reqs_total', ',expected_response="false"'), native)).toBe(native.totals.failedRequests);
    expect(await q(last('k6_iterations_total'), native)).toBe(native.totals.iterations);
    expect(await q(last('k6_dropped_iterations_total'), native)).toBe(native.totals.droppedIterations);
    expect(await q(last('k6_data_sent_total'), native)).toBe(native.totals.dataSent);
    expect(await q(last('k6_data_received_total'), native)).toBe(native.totals.dataReceived);
    expect(await q(last('k6_http_reqs_total', ',instance_id="2"'), native)).toBe(native.perRunner[2]!.requests);
    expect(native.totals.droppedIterations).toBe(43);
    expect(native.totals.requests).toBe(120 * 45);
  });

  test('rate gauges hold each runner’s cumulative ratio per tag set', async () => {
    for (const scenario of ['browse', 'api']) {
      // GIVEN the status check passes exactly when the request succeeded
      const passed = native.count({ runner: 1, scenario, failed: false });
      const all = native.count({ runner: 1, scenario });
      // WHEN
      const value = await q(`k6_checks_rate{testid="harness-native",instance_id="1",scenario="${scenario}"}`, native);
      // THEN
      expect({ scenario, value }).toEqual({ scenario, value: passed / all });
    }
    expect(native.count({ runner: 1, scenario: 'api', failed: true })).toBeGreaterThan(0);
  });

  test('classic mode writes one gauge per trend stat, cumulative since the start', async () => {
    // GIVEN one series of the classic run
    const sel = 'testid="harness-classic",instance_id="0",scenario="api",url="http://t/a",status="200"';
    const filter = { runner: 0, scenario: 'api', url: 'http://t/a', status: '200' };
    // THEN each stat equals the truth of exactly that tag set
    expect(await q(`k6_http_req_duration_p95{${sel}}`, classic)).toBeCloseTo(classic.quantile(0.95, filter), 9);
    expect(await q(`k6_http_req_duration_p99{${sel}}`, classic)).toBeCloseTo(classic.quantile(0.99, filter), 9);
    expect(await q(`k6_http_req_duration_med{${sel}}`, classic)).toBeCloseTo(classic.quantile(0.5, filter), 9);
    expect(await q(`k6_http_req_duration_min{${sel}}`, classic)).toBeCloseTo(Math.min(...classic.values('http_req_duration', filter)), 9);
    // k6 v1.7.1 internal/output/prometheusrw/remotewrite/trend.go adaptUnit divides every stat of a time trend by 1000,
    // _count included
    expect(await q(`k6_http_req_duration_count{${sel}}`, classic)).toBeCloseTo(classic.count(filter) / 1000, 12);
    expect(await q(`k6_iteration_duration_p90{testid="harness-classic",instance_id="0",scenario="api"}`, classic)).toBeCloseTo(
      classic.quantile(0.9, { runner: 0, scenario: 'api' }, 'iteration_duration'),
      9,
    );
    const status = await prom.tsdbStatus();
    expect(status.headStats.numSeries).toBeGreaterThan(0);
  });

  test('HTTP series carry the labels k6 v1.7.1 sets (lib/netext/httpext/transport.go), empty tags dropped', async () => {
    // WHEN
    const data = await prom.query(
      'group by (__name__, status, error_code, group, tls_version, proto, test) (k6_http_reqs_total{testid="harness-native"})',
      native.end,
    );
    // THEN a failed request has error_code 1000 + status; a success none; the root group's empty tag and tls_version of
    // plain HTTP are not written (internal/output/prometheusrw/remotewrite/prometheus.go MapTagSet)
    const metrics = (data.result as { metric: Record<string, string> }[]).map((r) => r.metric).sort((a, b) => (a.status! < b.status! ? -1 : 1));
    expect(metrics).toEqual([
      { __name__: 'k6_http_reqs_total', status: '200', proto: 'HTTP/1.1', test: 'harness-native' },
      { __name__: 'k6_http_reqs_total', status: '500', error_code: '1500', proto: 'HTTP/1.1', test: 'harness-native' },
    ]);
  });

  test('HTTPS requests carry tls_version (lib/netext/tls.go)', async () => {
    // GIVEN
    await pushK6Run(prom.writeUrl, { testid: 'harness-tls', runners: 1, durationSeconds: 10, urls: [{ url: 'https://t/secure' }] });
    // WHEN
    const data = await prom.query('group by (tls_version, proto) (k6_http_reqs_total{testid="harness-tls"})', Date.now());
    // THEN
    expect((data.result as { metric: Record<string, string> }[]).map((r) => r.metric)).toEqual([{ tls_version: 'tls1.3', proto: 'HTTP/2.0' }]);
  });

  test('k6_vus is written in the paused phase with 0 active VUs, only the run tags, before any work', async () => {
    // WHEN
    const data = await prom.query(`k6_vus{testid="harness-native"}[${(native.end - native.firstVusSample) / 1000 + 5}s]`, native.end);
    // THEN (k6 v1.7.1 internal/execution/scheduler.go emitVUsAndVUsMax)
    const series = data.result as { metric: Record<string, string>; values: [number, string][] }[];
    expect(series.map((s) => Object.keys(s.metric).sort())).toEqual([0, 1, 2].map(() => ['__name__', 'instance_id', 'test', 'testid']));
    for (const s of series) {
      const paused = s.values.filter(([t]) => t * 1000 < native.firstSample);
      expect(paused.map(([t, v]) => [t * 1000, v])).toEqual([
        [native.firstVusSample, '0'],
        [native.firstVusSample + 5000, '0'],
      ]);
    }
  });

  test('Prometheus runs with the retention from the values', async () => {
    const res = await fetch(`${prom.url}/api/v1/status/runtimeinfo`);
    const body = (await res.json()) as { data: { storageRetention: string } };
    expect(body.data.storageRetention).toBe('15d or 45GiB');
  });
});

describe('the construct settings are what makes ingestion work', () => {
  const oneHistogram = () => [
    { labels: { __name__: 'k6_http_req_duration_seconds', testid: 'guard' }, histograms: [NativeHistogramBuilder.of([0.1, 0.2, 0.3], Date.now())] },
  ];

  test('without enableRemoteWriteReceiver the write is rejected', async () => {
    // GIVEN the construct's spec minus the receiver
    const withoutReceiver = Object.fromEntries(Object.entries(spec).filter(([k]) => k !== 'enableRemoteWriteReceiver')) as PrometheusSpecValues;
    const prom = await startPrometheus({ spec: withoutReceiver });
    try {
      // WHEN / THEN
      await expect(pushSeries(prom.writeUrl, oneHistogram())).rejects.toThrow(/remote write to .* failed: 404/);
    } finally {
      await prom.stop();
    }
  });

  test('without the native-histograms feature, Prometheus 2.42 refuses the histograms and stores nothing', async () => {
    // GIVEN the construct's spec minus the feature
    const prom = await startPrometheus({ spec: { ...spec, enableFeatures: spec.enableFeatures.filter((f) => f !== 'native-histograms') } });
    try {
      // WHEN / THEN
      await expect(pushSeries(prom.writeUrl, oneHistogram())).rejects.toThrow(/failed: 500 Internal Server Error: native histograms are disabled/);
      const data = await prom.query('k6_http_req_duration_seconds{testid="guard"}');
      expect(data.result).toEqual([]);
    } finally {
      await prom.stop();
    }
  });
});
