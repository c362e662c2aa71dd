/**
 * Synthetic k6 runs with KNOWN TRUTH, shaped like k6 v1.7.1's `experimental-prometheus-rw` output: N runners (label
 * `instance_id`), the run tags `testid` and `test`, scenarios, URLs with a failure fraction each, a latency
 * distribution per runner (one runner can be much slower), checks, dropped iterations, in native-histogram or classic
 * trend-stats mode, and a paused phase before the start in which only `k6_vus` (0) and `k6_vus_max` are written.
 * Samples end at "now" and are pushed in time order, a batch of push intervals at a time.
 *
 * What k6 v1.7.1 does and the generator copies (the source it was checked against):
 * - internal/execution/scheduler.go `emitVUsAndVUsMax`: `vus` (active VUs: 0 until the executors run) and `vus_max`
 *   (initialised VUs) are emitted from `Init` on, before a `--paused` run is resumed, with the run tags only.
 * - lib/netext/httpext/transport.go `measureAndEmitMetrics`: `status`, `method`, `url`/`name` (the same value),
 *   `proto`, `error_code` = 1000 + status for a status >= 400 (none otherwise), `tls_version` (`tls1.3`, lib/netext/tls.go)
 *   only for HTTPS, `expected_response`; `error` only for transport errors (not generated).
 * - internal/output/prometheusrw/remotewrite/prometheus.go `MapTagSet`: tags with an empty value (the root `group`,
 *   no `error_code`) are not written.
 * - internal/output/prometheusrw/remotewrite/trend.go `adaptUnit`: in classic mode EVERY stat of a time trend is
 *   divided by 1000 (ms → s), `_count` included; remotewrite.go `setTrendStatsResolver` names `p(99.9)` `_p999`.
 *
 * Deterministic: the same options (incl. `seed`) give the same data and the same truth.
 *
 * ```ts
 * const run = await pushK6Run(prom.writeUrl, { testid: 'run-1', runners: 3, durationSeconds: 120 });
 * run.truth.quantile(0.95);            // true p95 of http_req_duration over all runners, in seconds
 * run.truth.totals.requests;           // total requests
 * ```
 */
import { NativeHistogramBuilder, pushSeries, type FloatSample, type HistogramSample, type RemoteWriteSeries } from './remote-write';

/** A log-normal latency distribution. */
export interface LatencyProfile {
  /** Median of http_req_duration in milliseconds. */
  readonly medianMs: number;
  /**
   * Spread: standard deviation of ln(duration).
   * @default 0.5
   */
  readonly sigma?: number;
}

/** One URL the synthetic script requests. */
export interface SyntheticUrl {
  /** The `url` label. */
  readonly url: string;
  /**
   * The `name` label.
   * @default - the url
   */
  readonly name?: string;
  /**
   * HTTP method (`method` label).
   * @default "GET"
   */
  readonly method?: string;
  /**
   * Fraction of requests to this URL that fail (status 500, expected_response="false"), spread evenly over time; one
   * number for all runners or one per runner.
   * @default 0
   */
  readonly failureFraction?: number | readonly number[];
}

/** One check evaluated once per iteration. */
export interface SyntheticCheck {
  /** The `check` label. */
  readonly name: string;
  /**
   * Fraction of evaluations that fail, one number for all runners or one per runner.
   * @default - the check passes exactly when the iteration's request succeeded (like `status is 200`)
   */
  readonly failFraction?: number | readonly number[];
}

/** Trend stats written as gauges in classic mode by default (series-name suffixes: `p(99)` → `p99`). */
export const CLASSIC_STATS = ['p99', 'p95', 'p90', 'min', 'max', 'avg', 'med', 'count', 'sum'] as const;
/**
 * One classic trend stat: `count`, `sum`, `min`, `max`, `avg`, `med`, `p(<float>)` as in K6_PROMETHEUS_RW_TREND_STATS
 * (written as `_p999` for `p(99.9)`), or the suffix of an integer percentile (`p95`).
 */
export type ClassicStat = (typeof CLASSIC_STATS)[number] | `p${number}` | `p(${number})`;

/** Options of a synthetic run. */
export interface K6RunOptions {
  /** The `testid` label of every series. */
  readonly testid: string;
  /**
   * The `test` label of every series (the platform's `--tag test=<test name>`); null writes none (runs from before the
   * tag).
   * @default - the testid without a trailing "-<yyyymmdd>-<hhmmss>"
   */
  readonly test?: string | null;
  /**
   * Seconds between VU initialisation and the resume of the paused run: `k6_vus` (0) and `k6_vus_max` are written in
   * this phase, nothing else (k6 runs `--paused`, the starter resumes all runners together).
   * @default 10
   */
  readonly pausedSeconds?: number;
  /**
   * `native`: trends as native histograms (`k6_<trend>_seconds`); `classic`: one gauge per trend stat.
   * @default "native"
   */
  readonly mode?: 'native' | 'classic';
  /**
   * Number of runners (label `instance_id` = 0..N-1).
   * @default 2
   */
  readonly runners?: number;
  /**
   * The runners are one cluster's of a multi-cluster run: every sample carries `zone=<zone>` and `instance_id` is
   * `<zone>-<index>`, as constructs/src/load-test/jobs-form.ts tags them.
   * @default - none: a single-cluster run
   */
  readonly zone?: string;
  /**
   * Scenario names; a runner's iterations go round-robin over them.
   * @default ["default"]
   */
  readonly scenarios?: readonly string[];
  /**
   * URLs; consecutive iterations of a scenario go round-robin over them (one request per iteration). Empty: iterations
   * without HTTP (no `k6_http_*` series at all).
   * @default [{ url: 'http://target.local/' }]
   */
  readonly urls?: readonly SyntheticUrl[];
  /**
   * Run length in seconds (rounded up to whole push intervals).
   * @default 60
   */
  readonly durationSeconds?: number;
  /**
   * Push interval in seconds (K6_PROMETHEUS_RW_PUSH_INTERVAL).
   * @default 5
   */
  readonly pushIntervalSeconds?: number;
  /**
   * Requests (= iterations) per second of each runner; one number or one per runner (a slow runner does fewer).
   * @default 10
   */
  readonly requestsPerSecond?: number | readonly number[];
  /**
   * Latency of http_req_duration: one profile or one per runner.
   * @default { medianMs: 100, sigma: 0.5 }
   */
  readonly latency?: LatencyProfile | readonly LatencyProfile[];
  /**
   * Checks evaluated once per iteration.
   * @default [{ name: 'status is 200' }]
   */
  readonly checks?: readonly SyntheticCheck[];
  /**
   * Dropped iterations of each runner over the whole run (one number or one per runner), spread evenly.
   * @default 0
   */
  readonly droppedIterations?: number | readonly number[];
  /**
   * VUs of each runner (`k6_vus`, `k6_vus_max`).
   * @default 10
   */
  readonly vus?: number;
  /**
   * Trend stats written in classic mode.
   * @default all of CLASSIC_STATS
   */
  readonly classicStats?: readonly ClassicStat[];
  /**
   * Timestamp of the last push (unix ms).
   * @default - now
   */
  readonly endTime?: number;
  /**
   * Seed of the latency random numbers.
   * @default 1
   */
  readonly seed?: number;
}

/** The k6 time trends the generator writes (all derived from one request's http_req_duration). */
export const TIME_TRENDS = [
  'http_req_duration',
  'http_req_waiting',
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_receiving',
  'iteration_duration',
] as const;
/** One of {@link TIME_TRENDS}. */
export type TimeTrend = (typeof TIME_TRENDS)[number];

/**
 * Each sub-timing as a fixed share of http_req_duration; iteration_duration = http_req_duration + 10 ms. Fixed shares
 * keep the truth of every trend a simple function of the duration observations.
 */
const TIMING_SHARE: Record<Exclude<TimeTrend, 'iteration_duration'>, number> = {
  http_req_duration: 1,
  http_req_waiting: 0.85,
  http_req_receiving: 0.14,
  http_req_sending: 0.01,
  http_req_blocked: 0.002,
  http_req_connecting: 0.001,
  http_req_tls_handshaking: 0.001,
};
/** Extra time of an iteration over its one request, seconds. */
export const ITERATION_OVERHEAD_SECONDS = 0.01;
/** Bytes sent per request. */
export const BYTES_SENT_PER_REQUEST = 120;
/** Bytes received per request. */
export const BYTES_RECEIVED_PER_REQUEST = 2048;

/** One request of the run, with the tags it was recorded under. */
export interface Observation {
  /** Runner index (`instance_id`). */
  readonly runner: number;
  /** Scenario. */
  readonly scenario: string;
  /** URL. */
  readonly url: string;
  /** The `name` tag. */
  readonly name: string;
  /** HTTP method. */
  readonly method: string;
  /** HTTP status ('200' or '500'). */
  readonly status: string;
  /** Whether the request failed. */
  readonly failed: boolean;
  /** http_req_duration in seconds. */
  readonly duration: number;
}

/** A subset of observations by tag; every given member must match. */
export interface ObservationFilter {
  /** Runner index. */
  readonly runner?: number;
  /** Scenario. */
  readonly scenario?: string;
  /** URL. */
  readonly url?: string;
  /** The `name` tag. */
  readonly name?: string;
  /** HTTP method. */
  readonly method?: string;
  /** HTTP status. */
  readonly status?: string;
  /** Failed (expected_response="false") or not. */
  readonly failed?: boolean;
}

/** Per-runner totals. */
export interface RunnerTruth {
  /** HTTP requests (one per iteration; none without URLs). */
  readonly requests: number;
  /** Iterations. */
  readonly iterations: number;
  /** Failed requests. */
  readonly failedRequests: number;
  /** Passed check evaluations. */
  readonly checksPassed: number;
  /** All check evaluations. */
  readonly checksTotal: number;
  /** Dropped iterations. */
  readonly droppedIterations: number;
}

/** What really happened in the run. */
export interface K6RunTruth {
  /** The run's testid. */
  readonly testid: string;
  /** The `test` label written, if any. */
  readonly test?: string;
  /** Start of the run (unix ms), i.e. the resume: one push interval before the first sample of work. */
  readonly start: number;
  /** Last sample (unix ms). */
  readonly end: number;
  /** Timestamp of the first sample of work (requests, iterations, VUs > 0; unix ms). */
  readonly firstSample: number;
  /** Timestamp of the first `k6_vus` sample, in the paused phase (unix ms); equals firstSample without one. */
  readonly firstVusSample: number;
  /** Run length in seconds (end - start). */
  readonly durationSeconds: number;
  /** Totals over all runners. */
  readonly totals: {
    readonly requests: number;
    readonly failedRequests: number;
    /** failedRequests / requests. */
    readonly errorRate: number;
    readonly iterations: number;
    readonly droppedIterations: number;
    readonly checksPassed: number;
    readonly checksTotal: number;
    /** checksPassed / checksTotal. */
    readonly checksRate: number;
    readonly dataSent: number;
    readonly dataReceived: number;
  };
  /** Totals per runner, by index. */
  readonly perRunner: readonly RunnerTruth[];
  /** Per check name: passed and total evaluations. */
  readonly perCheck: Readonly<Record<string, { readonly passed: number; readonly total: number }>>;
  /** Every request. */
  readonly observations: readonly Observation[];
  /** Values (seconds) of a time trend over the observations matching `filter`. */
  values(trend?: TimeTrend, filter?: ObservationFilter): number[];
  /** k6's percentile (linear interpolation between sorted values) of a trend, seconds; `q` in [0, 1]. */
  quantile(q: number, filter?: ObservationFilter, trend?: TimeTrend): number;
  /** Requests matching `filter`. */
  count(filter?: ObservationFilter): number;
}

/** k6's percentile of sorted values: linear interpolation at rank p·(n-1). */
export function k6Percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** mulberry32: small, fast, seedable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const perRunner = <T>(v: T | readonly T[], i: number): T => (Array.isArray(v) ? (v as readonly T[])[i % (v as readonly T[]).length]! : (v as T));

/** Whether the n-th event (0-based) of a stream with failure fraction f fails: failures spread evenly. */
const nthFails = (n: number, f: number): boolean => Math.floor((n + 1) * f + 1e-9) > Math.floor(n * f + 1e-9);

type SeriesKind = 'counter' | 'gauge' | 'rate' | 'trend';
interface SeriesState {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly kind: SeriesKind;
  value: number;
  nonZero: number;
  total: number;
  hist?: NativeHistogramBuilder;
  sorted?: number[];
  sum: number;
}

/** A synthetic run: iterate {@link SyntheticK6Run.batches} to get the series to push; `truth` is complete afterwards. */
export class SyntheticK6Run {
  /** Resolved options. */
  public readonly mode: 'native' | 'classic';
  private readonly o: K6RunOptions;
  private truthValue: K6RunTruth | undefined;

  public constructor(options: K6RunOptions) {
    this.o = options;
    this.mode = options.mode ?? 'native';
  }

  /** The truth; available once {@link batches} has been iterated to the end. */
  public get truth(): K6RunTruth {
    if (this.truthValue === undefined) throw new Error('SyntheticK6Run: truth is known only after all batches were generated');
    return this.truthValue;
  }

  /**
   * Simulates the run push interval by push interval and yields the series of `batchSteps` intervals at a time, in
   * time order. Like k6, a series is written in an interval only when it received samples in it (gauges always).
   */
  public *batches(batchSteps = 60): Generator<RemoteWriteSeries[]> {
    const o = this.o;
    const runners = o.runners ?? 2;
    const scenarios = o.scenarios ?? ['default'];
    const urls = o.urls ?? [{ url: 'http://target.local/' }];
    const interval = o.pushIntervalSeconds ?? 5;
    const steps = Math.max(1, Math.ceil((o.durationSeconds ?? 60) / interval));
    const pausedSteps = Math.ceil((o.pausedSeconds ?? 10) / interval);
    const end = o.endTime ?? Date.now();
    const start = end - steps * interval * 1000;
    const test = o.test === undefined ? o.testid.replace(/-\d{8}-\d{6}$/, '') : o.test;
    const checks = o.checks ?? [{ name: 'status is 200' }];
    const vus = o.vus ?? 10;
    const stats = o.classicStats ?? CLASSIC_STATS;
    const random = rng(o.seed ?? 1);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const runTags: Record<string, string> = {
      testid: o.testid,
      ...(test !== null ? { test } : {}),
      ...(o.zone !== undefined ? { zone: o.zone } : {}),
    };

    const series = new Map<string, SeriesState>();
    const touched = new Set<SeriesState>();
    const get = (name: string, kind: SeriesKind, labels: Record<string, string>): SeriesState => {
      // Callers pass the label keys in a fixed order per metric, so the values identify the series.
      let key = name;
      for (const k in labels) key += `\u0001${labels[k]!}`;
      let s = series.get(key);
      if (s === undefined) {
        const own = o.zone !== undefined && labels.instance_id !== undefined ? { ...labels, instance_id: `${o.zone}-${labels.instance_id}` } : labels;
        s = { name, labels: mapTagSet({ ...runTags, ...own }), kind, value: 0, nonZero: 0, total: 0, sum: 0 };
        if (kind === 'trend') {
          if (this.mode === 'native') s.hist = new NativeHistogramBuilder();
          else s.sorted = [];
        }
        series.set(key, s);
      }
      touched.add(s);
      return s;
    };
    const add = (s: SeriesState, v: number): void => {
      s.value += v;
    };
    const rate = (s: SeriesState, nonZero: boolean): void => {
      s.total++;
      if (nonZero) s.nonZero++;
    };
    const observe = (s: SeriesState, v: number): void => {
      s.total++;
      s.sum += v;
      if (s.hist) s.hist.observe(v);
      else insertSorted(s.sorted!, v);
    };

    const observations: Observation[] = [];
    const runnerTruth = Array.from({ length: runners }, () => ({
      requests: 0,
      iterations: 0,
      failedRequests: 0,
      checksPassed: 0,
      checksTotal: 0,
      droppedIterations: 0,
    }));
    const perCheck: Record<string, { passed: number; total: number }> = {};
    const urlCounter = new Map<string, number>();
    const checkCounter = new Map<string, number>();
    /** One check of one iteration: its rate sample and the truth; `passDefault` when the check has no fail fraction. */
    const recordCheck = (r: number, c: (typeof checks)[number], iterTags: Record<string, string>, passDefault: boolean): void => {
      const ckey = `${r}|${c.name}`;
      const cc = checkCounter.get(ckey) ?? 0;
      checkCounter.set(ckey, cc + 1);
      const pass = c.failFraction === undefined ? passDefault : !nthFails(cc, perRunner(c.failFraction, r));
      rate(get('checks', 'rate', { ...iterTags, check: c.name }), pass);
      const truth = runnerTruth[r]!;
      truth.checksTotal++;
      if (pass) truth.checksPassed++;
      const pc = (perCheck[c.name] ??= { passed: 0, total: 0 });
      pc.total++;
      if (pass) pc.passed++;
    };
    const carry = new Array<number>(runners).fill(0);
    const droppedCarry = new Array<number>(runners).fill(0);
    let iterationCounter = new Array<number>(runners).fill(0);
    let dataSent = 0;
    let dataReceived = 0;

    // Per-series samples of the current batch, in time order.
    let pending = new Map<SeriesState, { samples: FloatSample[]; histograms: HistogramSample[]; classic: Map<string, FloatSample[]> }>();
    const flushBatch = (): RemoteWriteSeries[] => {
      const out: RemoteWriteSeries[] = [];
      for (const [s, p] of pending) {
        if (s.kind === 'trend' && this.mode === 'native') {
          out.push({ labels: { __name__: `k6_${s.name}_seconds`, ...s.labels }, histograms: p.histograms });
        } else if (s.kind === 'trend') {
          for (const [stat, samples] of p.classic) out.push({ labels: { __name__: `k6_${s.name}_${stat}`, ...s.labels }, samples });
        } else {
          const suffix = s.kind === 'counter' ? '_total' : s.kind === 'rate' ? '_rate' : '';
          out.push({ labels: { __name__: `k6_${s.name}${suffix}`, ...s.labels }, samples: p.samples });
        }
      }
      pending = new Map();
      return out;
    };

    // The paused phase: VUs initialised (vus_max), none active (vus 0), no work.
    for (let step = 0; step < pausedSteps; step++) {
      const t = start - (pausedSteps - 1 - step) * interval * 1000;
      for (let r = 0; r < runners; r++) {
        for (const [name, value] of [
          ['vus', 0],
          ['vus_max', vus],
        ] as const) {
          const g = get(name, 'gauge', { instance_id: String(r) });
          g.value = value;
        }
      }
      for (const s of touched) {
        let p = pending.get(s);
        if (p === undefined) {
          p = { samples: [], histograms: [], classic: new Map() };
          pending.set(s, p);
        }
        p.samples.push({ value: s.value, timestamp: t });
      }
      touched.clear();
    }
    for (let step = 0; step < steps; step++) {
      const t = start + (step + 1) * interval * 1000;
      for (let r = 0; r < runners; r++) {
        const runner = String(r);
        const rt = runnerTruth[r]!;
        const lat = perRunner(o.latency ?? { medianMs: 100 }, r);
        carry[r]! += perRunner(o.requestsPerSecond ?? 10, r) * interval;
        const n = Math.floor(carry[r]! + 1e-9);
        carry[r]! -= n;
        get('vus', 'gauge', { instance_id: runner }).value = vus;
        get('vus_max', 'gauge', { instance_id: runner }).value = vus;
        for (let k = 0; k < n; k++) {
          const it = iterationCounter[r]!++;
          const scenario = scenarios[it % scenarios.length]!;
          if (urls.length === 0) {
            // An iteration without HTTP: iteration counters and checks only.
            const duration = (lat.medianMs / 1000) * Math.exp((lat.sigma ?? 0.5) * gauss());
            observations.push({ runner: r, scenario, url: '', name: '', method: '', status: '', failed: false, duration });
            rt.iterations++;
            const iterTags = { instance_id: runner, scenario, group: '' };
            add(get('iterations', 'counter', iterTags), 1);
            observe(get('iteration_duration', 'trend', iterTags), duration + ITERATION_OVERHEAD_SECONDS);
            for (const c of checks) recordCheck(r, c, iterTags, true);
            continue;
          }
          const u = urls[Math.floor(it / scenarios.length) % urls.length]!;
          const ukey = `${r}|${u.url}`;
          const uc = urlCounter.get(ukey) ?? 0;
          urlCounter.set(ukey, uc + 1);
          const failed = nthFails(uc, perRunner(u.failureFraction ?? 0, r));
          const duration = (lat.medianMs / 1000) * Math.exp((lat.sigma ?? 0.5) * gauss());
          const method = u.method ?? 'GET';
          const status = failed ? '500' : '200';
          const name = u.name ?? u.url;
          observations.push({ runner: r, scenario, url: u.url, name, method, status, failed, duration });
          rt.requests++;
          rt.iterations++;
          if (failed) rt.failedRequests++;

          // Tag set of k6 v1.7.1 lib/netext/httpext/transport.go for a response (no transport error).
          const https = u.url.startsWith('https://');
          const httpTags = {
            instance_id: runner,
            scenario,
            group: '',
            url: u.url,
            name,
            method,
            status,
            error_code: Number(status) >= 400 ? String(1000 + Number(status)) : '',
            proto: https ? 'HTTP/2.0' : 'HTTP/1.1',
            tls_version: https ? 'tls1.3' : '',
            expected_response: failed ? 'false' : 'true',
          };
          add(get('http_reqs', 'counter', httpTags), 1);
          rate(get('http_req_failed', 'rate', httpTags), failed);
          for (const [trend, share] of Object.entries(TIMING_SHARE)) observe(get(trend, 'trend', httpTags), duration * share);
          const iterTags = { instance_id: runner, scenario, group: '' };
          add(get('iterations', 'counter', iterTags), 1);
          observe(get('iteration_duration', 'trend', iterTags), duration + ITERATION_OVERHEAD_SECONDS);
          add(get('data_sent', 'counter', iterTags), BYTES_SENT_PER_REQUEST);
          add(get('data_received', 'counter', iterTags), BYTES_RECEIVED_PER_REQUEST);
          dataSent += BYTES_SENT_PER_REQUEST;
          dataReceived += BYTES_RECEIVED_PER_REQUEST;
          for (const c of checks) recordCheck(r, c, iterTags, !failed);
        }
        droppedCarry[r]! += perRunner(o.droppedIterations ?? 0, r) / steps;
        const dropped = step === steps - 1 ? Math.round(droppedCarry[r]!) : Math.floor(droppedCarry[r]! + 1e-9);
        if (dropped > 0) {
          droppedCarry[r]! -= dropped;
          add(get('dropped_iterations', 'counter', { instance_id: runner, scenario: scenarios[0]! }), dropped);
          rt.droppedIterations += dropped;
        }
      }
      // Emit every series touched in this interval.
      for (const s of touched) {
        let p = pending.get(s);
        if (p === undefined) {
          p = { samples: [], histograms: [], classic: new Map() };
          pending.set(s, p);
        }
        if (s.kind === 'counter' || s.kind === 'gauge') p.samples.push({ value: s.value, timestamp: t });
        else if (s.kind === 'rate') p.samples.push({ value: s.nonZero / s.total, timestamp: t });
        else if (s.hist) p.histograms.push(s.hist.snapshot(t));
        else for (const stat of stats) pushClassic(p.classic, classicStatSuffix(stat), classicValue(s, stat), t);
      }
      touched.clear();
      if ((step + 1) % batchSteps === 0 || step === steps - 1) yield flushBatch();
    }
    iterationCounter = [];

    const totals = runnerTruth.reduce(
      (a, r) => ({
        requests: a.requests + r.requests,
        iterations: a.iterations + r.iterations,
        failedRequests: a.failedRequests + r.failedRequests,
        checksPassed: a.checksPassed + r.checksPassed,
        checksTotal: a.checksTotal + r.checksTotal,
        droppedIterations: a.droppedIterations + r.droppedIterations,
      }),
      { requests: 0, iterations: 0, failedRequests: 0, checksPassed: 0, checksTotal: 0, droppedIterations: 0 },
    );
    const matches = (ob: Observation, f: ObservationFilter): boolean =>
      (f.runner === undefined || ob.runner === f.runner) &&
      (f.scenario === undefined || ob.scenario === f.scenario) &&
      (f.url === undefined || ob.url === f.url) &&
      (f.name === undefined || ob.name === f.name) &&
      (f.method === undefined || ob.method === f.method) &&
      (f.status === undefined || ob.status === f.status) &&
      (f.failed === undefined || ob.failed === f.failed);
    const values = (trend: TimeTrend = 'http_req_duration', filter: ObservationFilter = {}): number[] =>
      observations
        .filter((ob) => matches(ob, filter) && (trend === 'iteration_duration' || ob.url !== ''))
        .map((ob) => (trend === 'iteration_duration' ? ob.duration + ITERATION_OVERHEAD_SECONDS : ob.duration * TIMING_SHARE[trend]));
    this.truthValue = {
      testid: o.testid,
      ...(test !== null ? { test } : {}),
      start,
      end,
      firstSample: start + interval * 1000,
      firstVusSample: pausedSteps > 0 ? start - (pausedSteps - 1) * interval * 1000 : start + interval * 1000,
      durationSeconds: (end - start) / 1000,
      totals: {
        ...totals,
        errorRate: urls.length === 0 ? 0 : totals.failedRequests / totals.requests,
        checksRate: totals.checksPassed / totals.checksTotal,
        dataSent,
        dataReceived,
      },
      perRunner: runnerTruth,
      perCheck,
      observations,
      values,
      quantile: (q, filter, trend) =>
        k6Percentile(
          values(trend, filter).sort((a, b) => a - b),
          q,
        ),
      count: (filter = {}) => observations.filter((ob) => matches(ob, filter) && ob.url !== '').length,
    };
  }
}

function insertSorted(arr: number[], v: number): void {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  arr.splice(lo, 0, v);
}

/**
 * The labels k6 writes for a tag set (internal/output/prometheusrw/remotewrite/prometheus.go `MapTagSet`): a tag with
 * an empty key or value is skipped.
 */
export function mapTagSet(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([k, v]) => k !== '' && v !== ''));
}

/**
 * One classic stat of a trend series as k6 writes it. Values are seconds (the generator observes seconds; k6 observes
 * ms and trend.go `adaptUnit` divides by 1000); `count` is the number of observations divided by 1000 too, because
 * adaptUnit divides every stat of a time trend (all generated trends are time trends).
 */
function classicValue(s: SeriesState, stat: ClassicStat): number {
  const sorted = s.sorted!;
  switch (stat) {
    case 'count':
      return s.total / 1000;
    case 'sum':
      return s.sum;
    case 'avg':
      return s.sum / s.total;
    case 'min':
      return sorted[0]!;
    case 'max':
      return sorted[sorted.length - 1]!;
    case 'med':
      return k6Percentile(sorted, 0.5);
    default:
      return k6Percentile(sorted, classicPercentile(stat) / 100);
  }
}

/**
 * The percentile of a classic stat: `p(99.9)` as in K6_PROMETHEUS_RW_TREND_STATS, or a suffix with an integer
 * percentile (`p95`).
 */
function classicPercentile(stat: string): number {
  const m = /^p\((.+)\)$/.exec(stat);
  return m !== null ? Number(m[1]) : Number(stat.slice(1));
}

/** The series-name suffix k6 writes for a stat (remotewrite.go `setTrendStatsResolver`: `p(99.9)` → `p999`). */
export function classicStatSuffix(stat: string): string {
  return stat.startsWith('p(') ? `p${stat.slice(2, -1).replace(/\./g, '')}` : stat;
}

function pushClassic(m: Map<string, FloatSample[]>, stat: string, value: number, timestamp: number): void {
  const list = m.get(stat);
  if (list) list.push({ value, timestamp });
  else m.set(stat, [{ value, timestamp }]);
}

/**
 * Generates a run and pushes it to a remote-write endpoint in time order, `batchSteps` push intervals per request
 * (default 60, i.e. 5 minutes of 5 s intervals); resolves with the truth.
 */
export async function pushK6Run(writeUrl: string, options: K6RunOptions, batchSteps = 60): Promise<K6RunTruth> {
  const run = new SyntheticK6Run(options);
  for (const batch of run.batches(batchSteps)) await pushSeries(writeUrl, batch);
  return run.truth;
}
