/**
 * Test harness: a real single-node VictoriaMetrics 1.145.0 (Debian sid's `victoria-metrics` package, unpacked by
 * .ci/setup into .tools/victoria-metrics, or `VICTORIA_METRICS_BIN`) on a free loopback port, mirroring
 * test/support/prometheus.ts: start by PID, wait until ready, stop by PID, temp data dir removed.
 *
 * Flags, from VictoriaMetrics v1.145.0 (app/vmselect/prometheus/prometheus.go, docs/victoriametrics/README.md):
 * - `-search.latencyOffset=0s`: by default (30s) samples closer than that to "now" are hidden from queries, and the
 *   tests query at the end of a run that ended just now;
 * - `-search.disableCache`: the response cache would keep an answer computed before a later push (README "Backfilling");
 * - and {@link VictoriaMetricsHandle.flush} calls `/internal/force_flush`, which turns the in-memory buffers of just
 *   ingested samples into searchable blocks (README "Forced flush": "for automated tests"): call it after a push.
 *
 * Usage (one VictoriaMetrics per test file):
 * ```ts
 * let vm: VictoriaMetricsHandle;
 * beforeAll(async () => { vm = await startVictoriaMetrics(); await pushK6Run(vm.writeUrl, {...}); await vm.flush(); });
 * afterAll(() => vm.stop());
 * ```
 */
import { superviseServer } from './server-process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort, type PromQueryData } from './prometheus';

/** Where .ci/setup unpacks the Debian package. */
export const DEFAULT_VICTORIA_METRICS_BINARY = path.resolve(__dirname, '..', '..', '.tools', 'victoria-metrics', 'usr', 'bin', 'victoria-metrics');

/** The flags every harness VictoriaMetrics runs with (see the file comment for why each). */
export const VICTORIA_METRICS_TEST_FLAGS: readonly string[] = ['-search.latencyOffset=0s', '-search.disableCache', '-loggerLevel=ERROR'];

/** Options of {@link startVictoriaMetrics}. */
export interface StartVictoriaMetricsOptions {
  /**
   * Path of the victoria-metrics binary.
   * @default - `VICTORIA_METRICS_BIN` from the environment, else .tools/victoria-metrics/usr/bin/victoria-metrics
   */
  readonly binary?: string;
  /**
   * Extra flags (after {@link VICTORIA_METRICS_TEST_FLAGS}).
   * @default - none
   */
  readonly flags?: readonly string[];
  /**
   * How long to wait for /health.
   * @default 30000
   */
  readonly readyTimeoutMs?: number;
}

/** A running VictoriaMetrics. */
export interface VictoriaMetricsHandle {
  /** Base URL, e.g. http://127.0.0.1:41234: the Prometheus query API is at `<url>/api/v1/query`. */
  readonly url: string;
  /** Prometheus remote-write endpoint (`<url>/api/v1/write`). */
  readonly writeUrl: string;
  /** The flags VictoriaMetrics was started with. */
  readonly flags: readonly string[];
  /** Makes everything ingested so far searchable (`/internal/force_flush`). */
  flush(): Promise<void>;
  /** Instant query (`time` in unix milliseconds; default now). Throws with VictoriaMetrics' error on failure. */
  query(expr: string, time?: number): Promise<PromQueryData>;
  /** Range query (times in unix milliseconds, step in seconds). */
  queryRange(expr: string, start: number, end: number, step: number): Promise<PromQueryData>;
  /** The series names matching `match` (`/api/v1/series`), for checking how remote-written data is stored. */
  series(match: string): Promise<Record<string, string>[]>;
  /** Everything VictoriaMetrics logged so far (for failure messages). */
  logs(): string;
  /** Kills VictoriaMetrics and removes its data dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts VictoriaMetrics on a free loopback port with a temp data dir; resolves when /health answers OK. */
export async function startVictoriaMetrics(options: StartVictoriaMetricsOptions = {}): Promise<VictoriaMetricsHandle> {
  const binary = options.binary ?? process.env.VICTORIA_METRICS_BIN ?? DEFAULT_VICTORIA_METRICS_BINARY;
  if (!existsSync(binary)) {
    throw new Error(
      `startVictoriaMetrics: binary not found at ${binary}; run \`bash .ci/setup\` (unpacks victoria-metrics from Debian sid) or set VICTORIA_METRICS_BIN`,
    );
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binary, [...VICTORIA_METRICS_TEST_FLAGS, ...(options.flags ?? [])], options.readyTimeoutMs ?? 30000);
    } catch (e) {
      lastError = e;
      // Only a lost race for the port is worth a retry.
      if (!String(e).includes('address already in use')) throw e;
    }
  }
  throw lastError;
}

async function waitReady(url: string, deadline: number, exited: () => boolean, log: () => string): Promise<void> {
  for (;;) {
    if (exited()) throw new Error(`exited before it was ready:\n${log()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not ready after the timeout:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startOnce(binary: string, flags: string[], readyTimeoutMs: number): Promise<VictoriaMetricsHandle> {
  const dir = mkdtempSync(path.join(tmpdir(), 'k6-vm-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [`-storageDataPath=${path.join(dir, 'data')}`, `-httpListenAddr=127.0.0.1:${port}`, ...flags];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = superviseServer(child, dir, 'both');
  const stop = proc.stop;
  try {
    await waitReady(url, Date.now() + readyTimeoutMs, () => proc.exitCode() !== undefined, proc.log);
  } catch (e) {
    await stop();
    throw new Error(`startVictoriaMetrics: ${binary} (${args.join(' ')}) ${(e as Error).message}`);
  }
  const api = async <T>(apiPath: string, params: Record<string, string>): Promise<T> => {
    const res = await fetch(`${url}${apiPath}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const text = await res.text();
    const body = JSON.parse(text) as { status: string; data: T; error?: string };
    if (body.status !== 'success')
      throw new Error(`VictoriaMetrics ${apiPath} failed (${res.status}): ${body.error ?? text}; params: ${JSON.stringify(params)}`);
    return body.data;
  };
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    flags,
    flush: async () => {
      const res = await fetch(`${url}/internal/force_flush`);
      if (!res.ok) throw new Error(`VictoriaMetrics /internal/force_flush answered ${res.status}: ${await res.text()}`);
    },
    query: (expr, time) => api<PromQueryData>('/api/v1/query', { query: expr, ...(time !== undefined ? { time: (time / 1000).toFixed(3) } : {}) }),
    queryRange: (expr, start, end, step) =>
      api<PromQueryData>('/api/v1/query_range', { query: expr, start: (start / 1000).toFixed(3), end: (end / 1000).toFixed(3), step: String(step) }),
    series: (match) => api<Record<string, string>[]>('/api/v1/series', { 'match[]': match, start: '0' }),
    logs: proc.log,
    stop,
  };
}
