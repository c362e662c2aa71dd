/**
 * Test harness: a real Prometheus (Debian's 2.42, or `PROMETHEUS_BIN`: .ci/setup unpacks 3.5.3 from Debian sid into
 * .tools/prometheus-3 and `npm run test:prometheus3` runs every Prometheus-backed test on it) started with the flags
 * derived from the construct's own
 * `prometheusSpec` values, the way prometheus-operator derives them. Tests never write a second copy of the flags:
 * they pass `monitoringValues(cfg).prometheus.prometheusSpec` (or a modified copy of it) to {@link startPrometheus}.
 *
 * Usage (one Prometheus per test file):
 * ```ts
 * let prom: PrometheusHandle;
 * beforeAll(async () => { prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec }); });
 * afterAll(() => prom.stop());
 * ```
 *
 * Recording rules: pass the `spec.groups` of PrometheusRule objects as `ruleGroups` (a group's `interval` can be
 * shortened for a test), read their state with `rules()`.
 */
import { superviseServer } from './server-process';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubePrometheusStackValues } from '../../constructs/src/monitoring/monitoring-stack';

/** The construct's Prometheus spec values; every key optional so tests can remove one and watch the harness fail. */
export type PrometheusSpecValues = Partial<KubePrometheusStackValues['prometheus']['prometheusSpec']> & Record<string, unknown>;

/** Where the Debian package installs Prometheus. */
export const DEFAULT_PROMETHEUS_BINARY = '/usr/bin/prometheus';

/**
 * The major version of the Prometheus the harness starts (`PROMETHEUS_BIN`, else Debian's), read from `--version`
 * before any server runs, for tests that differ by version from their definition on.
 */
export function binaryMajorVersion(binary: string = process.env.PROMETHEUS_BIN ?? DEFAULT_PROMETHEUS_BINARY): number {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const major = Number(/version (\d+)\./.exec(`${out.stdout}${out.stderr}`)?.[1] ?? NaN);
  if (!Number.isInteger(major)) throw new Error(`${binary} --version did not say its version: ${out.stderr || out.stdout}`);
  return major;
}

/**
 * `prometheusSpec` keys the harness deliberately does NOT turn into flags, each with the reason. Every key of the spec
 * must be either mapped to a flag by {@link prometheusFlags} or listed here; anything else throws, so a new setting in
 * the construct can never be ignored silently.
 */
export const SPEC_KEYS_NOT_APPLIED: Readonly<Record<string, string>> = {
  // Prometheus 3 only: prometheus-operator maps it to `--web.remote-write-receiver.accepted-protobuf-messages=...`,
  // a flag Prometheus 2.42 does not know (2.42 accepts remote-write 1.0 messages only, which is what k6 sends).
  remoteWriteReceiverMessageVersions: 'Prometheus 3 flag --web.remote-write-receiver.accepted-protobuf-messages; 2.42 accepts remote-write 1.0 only',
  // Prometheus 3.9+: the operator writes `scrape_native_histograms` into the generated config file (not a flag). It
  // governs scraping only; the harness has no scrape jobs, and 2.42 has no such config field.
  scrapeNativeHistograms: 'config-file setting of Prometheus 3.9+ for scraping; the harness does not scrape',
  // Kubernetes-level settings (pod resources, PVC, selectors of ServiceMonitors/PodMonitors/rules): no flag exists.
  resources: 'Kubernetes pod resources, not a Prometheus flag',
  // With a metrics backend the stack's Prometheus also sends (config-file remote_write); the harness only receives.
  remoteWrite: 'config-file remote_write to a metrics backend; the harness receives remote writes, it sends none',
  storageSpec: 'Kubernetes PVC, not a Prometheus flag (the harness uses a temp dir)',
  serviceMonitorSelectorNilUsesHelmValues: 'chart-level selector setting, not a Prometheus flag',
  podMonitorSelectorNilUsesHelmValues: 'chart-level selector setting, not a Prometheus flag',
  ruleSelectorNilUsesHelmValues: 'chart-level selector setting, not a Prometheus flag',
};

/**
 * Derives Prometheus command-line flags from the construct's `prometheusSpec` values, as prometheus-operator does:
 * - `enableRemoteWriteReceiver: true` → `--web.enable-remote-write-receiver`
 * - each `enableFeatures` entry → `--enable-feature=<x>` (the operator joins them with commas into one flag;
 *   Prometheus accepts both forms)
 * - `retention` → `--storage.tsdb.retention.time=<retention>`
 * - `retentionSize` → `--storage.tsdb.retention.size=<retentionSize>` passed through unchanged: Prometheus parses
 *   `45GB`, `512MB` and `512MiB` alike, with base-2 units (`45GB` is reported as `45GiB`).
 * Keys in {@link SPEC_KEYS_NOT_APPLIED} are skipped on purpose; any other key throws.
 */
export function prometheusFlags(spec: PrometheusSpecValues): string[] {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(spec)) {
    if (value === undefined) continue;
    switch (key) {
      case 'enableRemoteWriteReceiver':
        if (value === true) flags.push('--web.enable-remote-write-receiver');
        break;
      case 'enableFeatures':
        for (const feature of value as readonly string[]) flags.push(`--enable-feature=${feature}`);
        break;
      case 'retention':
        flags.push(`--storage.tsdb.retention.time=${String(value)}`);
        break;
      case 'retentionSize':
        flags.push(`--storage.tsdb.retention.size=${String(value)}`);
        break;
      default:
        if (!(key in SPEC_KEYS_NOT_APPLIED)) {
          throw new Error(
            `prometheusFlags: 'prometheusSpec.${key}' has no mapping to a Prometheus flag; map it in prometheusFlags() or list it in SPEC_KEYS_NOT_APPLIED (test/support/prometheus.ts)`,
          );
        }
    }
  }
  return flags;
}

/** Options of {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /** The construct's `prometheusSpec` values the flags are derived from. */
  readonly spec: PrometheusSpecValues;
  /**
   * Path of the Prometheus binary.
   * @default - `PROMETHEUS_BIN` from the environment, else /usr/bin/prometheus
   */
  readonly binary?: string;
  /**
   * `--query.lookback-delta`: how far back an instant query looks for the latest sample.
   * @default "5m" (Prometheus' own default)
   */
  readonly lookbackDelta?: string;
  /**
   * How long to wait for /-/ready.
   * @default 30000
   */
  readonly readyTimeoutMs?: number;
  /**
   * Rule groups to load, in the Prometheus rule-file form: the `spec.groups` of PrometheusRule objects are exactly
   * that (prometheus-operator writes them into the rule files of the Prometheus it runs). Written to a rule file named
   * in the config's `rule_files`; Prometheus refuses to start on an invalid one.
   * @default - no rules
   */
  readonly ruleGroups?: readonly unknown[];
  /**
   * The config's `global.evaluation_interval` (a group's own `interval` wins over it).
   * @default "1m"
   */
  readonly evaluationInterval?: string;
}

/** One element of an instant-vector or range-vector result. */
export interface PromSeriesResult {
  /** Labels of the series. */
  readonly metric: Record<string, string>;
  /** `[unix seconds, value]` of an instant float sample. */
  readonly value?: [number, string];
  /** `[unix seconds, histogram]` of an instant native-histogram sample. */
  readonly histogram?: [number, PromHistogramJson];
  /** Float samples of a range vector or range query. */
  readonly values?: [number, string][];
  /** Native-histogram samples of a range vector or range query. */
  readonly histograms?: [number, PromHistogramJson][];
}

/** A native histogram as the HTTP API renders it. */
export interface PromHistogramJson {
  /** Total observation count. */
  readonly count: string;
  /** Sum of the observations. */
  readonly sum: string;
  /** `[boundaryRule, lower, upper, count]` per bucket. */
  readonly buckets?: [number, string, string, string][];
}

/** The `data` of a query answer. */
export interface PromQueryData {
  /** `vector`, `matrix`, `scalar` or `string`. */
  readonly resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  /** The result; a `[time, value]` pair for scalars. */
  readonly result: PromSeriesResult[] | [number, string];
}

/** A running Prometheus. */
export interface PrometheusHandle {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Remote-write endpoint (`<url>/api/v1/write`). */
  readonly writeUrl: string;
  /** The flags Prometheus was started with (derived from the spec). */
  readonly flags: readonly string[];
  /** Instant query (`time` in unix milliseconds; default now). Throws with Prometheus' error on failure. */
  query(expr: string, time?: number): Promise<PromQueryData>;
  /** Range query (times in unix milliseconds, step in seconds). */
  queryRange(expr: string, start: number, end: number, step: number): Promise<PromQueryData>;
  /** `/api/v1/status/tsdb` (head series count, cardinality by metric name). */
  tsdbStatus(): Promise<TsdbStatus>;
  /** `/api/v1/rules`: the loaded rule groups with their health and evaluation times. */
  rules(): Promise<RuleGroupStatus[]>;
  /** Everything Prometheus logged so far (for failure messages). */
  logs(): string;
  /** Kills Prometheus and removes its temp dirs. Safe to call twice. */
  stop(): Promise<void>;
}

/** The parts of `/api/v1/status/tsdb` tests use. */
export interface TsdbStatus {
  /** Head block statistics. */
  readonly headStats: {
    readonly numSeries: number;
    readonly numLabelPairs: number;
    readonly chunkCount: number;
    readonly minTime: number;
    readonly maxTime: number;
  };
  /** Series count per metric name, highest first (top 10). */
  readonly seriesCountByMetricName: { readonly name: string; readonly value: number }[];
}

/** One group of `/api/v1/rules`. */
export interface RuleGroupStatus {
  readonly name: string;
  /** Evaluation interval in seconds. */
  readonly interval: number;
  /** Duration of the group's last evaluation in seconds. */
  readonly evaluationTime: number;
  /** RFC 3339 time of the last evaluation (`0001-01-01T00:00:00Z` before the first). */
  readonly lastEvaluation: string;
  readonly rules: readonly {
    readonly name: string;
    readonly query: string;
    readonly health: string;
    readonly lastError?: string;
    readonly evaluationTime: number;
    readonly lastEvaluation: string;
  }[];
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller retries if another process takes it meanwhile). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts Prometheus on a free loopback port with the flags derived from `spec`, an empty config (remote write only,
 * no scrape jobs) and a temp TSDB dir; resolves when /-/ready answers. Fails with a clear error when the binary is
 * missing or Prometheus refuses its flags.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusHandle> {
  const binary = options.binary ?? process.env.PROMETHEUS_BIN ?? DEFAULT_PROMETHEUS_BINARY;
  if (!existsSync(binary)) {
    throw new Error(`startPrometheus: Prometheus binary not found at ${binary}; install with apt-get install prometheus (see .ci/setup)`);
  }
  const flags = prometheusFlags(options.spec);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binary, flags, options);
    } catch (e) {
      lastError = e;
      // Only a lost race for the port is worth a retry.
      if (!String(e).includes('address already in use')) throw e;
    }
  }
  throw lastError;
}

async function startOnce(binary: string, flags: string[], options: StartPrometheusOptions): Promise<PrometheusHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'k6-prom-'));
  const configFile = join(dir, 'prometheus.yml');
  // No scrape jobs: data arrives by remote write only.
  const ruleFile = join(dir, 'rules.json');
  // JSON is YAML, so the groups need no YAML writer.
  if (options.ruleGroups !== undefined) writeFileSync(ruleFile, JSON.stringify({ groups: options.ruleGroups }));
  writeFileSync(
    configFile,
    `global:\n  evaluation_interval: ${options.evaluationInterval ?? '1m'}\nscrape_configs: []\n` +
      (options.ruleGroups !== undefined ? `rule_files:\n  - ${JSON.stringify(ruleFile)}\n` : ''),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--query.lookback-delta=${options.lookbackDelta ?? '5m'}`,
    '--log.level=warn',
    ...flags,
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const proc = superviseServer(child, dir, 'stderr');
  const stop = proc.stop;

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30000);
  for (;;) {
    if (proc.exitCode() !== undefined) {
      await stop();
      throw new Error(
        `startPrometheus: ${binary} exited with code ${String(proc.exitCode())} before it was ready (flags: ${flags.join(' ')}):\n${proc.log()}`,
      );
    }
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`startPrometheus: not ready after ${options.readyTimeoutMs ?? 30000} ms:\n${proc.log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  // node:http with a keep-alive agent rather than fetch: on loopback fetch adds about 1.5 ms to every query (measured
  // against vector(1): 1.9 ms vs 0.4 ms), which the benchmarks would count as Prometheus' own time.
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
    const { status, text } = await postForm(agent, port, path, new URLSearchParams(params).toString());
    let body: { status: string; data: T; error?: string; errorType?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`Prometheus ${path} answered ${status} with no JSON: ${text.slice(0, 200)}; params: ${JSON.stringify(params)}`);
    }
    if (body.status !== 'success')
      throw new Error(`Prometheus ${path} failed (${status} ${body.errorType ?? ''}): ${body.error ?? ''}; params: ${JSON.stringify(params)}`);
    return body.data;
  };
  const stopAll = async () => {
    agent.destroy();
    await stop();
  };

  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    flags,
    query: (expr, time) => api<PromQueryData>('/api/v1/query', { query: expr, ...(time !== undefined ? { time: (time / 1000).toFixed(3) } : {}) }),
    queryRange: (expr, start, end, step) =>
      api<PromQueryData>('/api/v1/query_range', { query: expr, start: (start / 1000).toFixed(3), end: (end / 1000).toFixed(3), step: String(step) }),
    tsdbStatus: async () => {
      const res = await fetch(`${url}/api/v1/status/tsdb`);
      const body = (await res.json()) as { data: TsdbStatus };
      return body.data;
    },
    rules: async () => {
      const res = await fetch(`${url}/api/v1/rules?type=record`);
      const body = (await res.json()) as { data: { groups: RuleGroupStatus[] } };
      return body.data.groups;
    },
    logs: proc.log,
    stop: stopAll,
  };
}

/** The single number of a one-element vector or a scalar result; throws when there is not exactly one. */
export function singleValue(data: PromQueryData): number {
  if (data.resultType === 'scalar') return Number((data.result as [number, string])[1]);
  const result = data.result as PromSeriesResult[];
  if (result.length !== 1 || result[0]?.value === undefined) {
    throw new Error(`expected exactly one float sample, got ${JSON.stringify(data.result).slice(0, 300)}`);
  }
  return Number(result[0].value[1]);
}

/** POSTs a form to 127.0.0.1:`port` over `agent`; resolves with the status and the body. */
function postForm(agent: Agent, port: number, path: string, form: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(form);
  });
}
