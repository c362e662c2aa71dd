/**
 * abortOnFail for runs started without the CLI (scheduled runs): the starter beside runner 0 evaluates the test's
 * abortOnFail thresholds over all runners (constructs/src/k6/starter.sh with the watch file of
 * constructs/src/k6/abort-watch-file.ts). The CronJob the construct synthesizes is run the way the kubelet would run
 * its starter container: its env (field refs and `$(VAR)` resolved), its args pointed at fake k6 runners
 * (test/support/fake-k6-runner.ts, k6 v1.7.1 api/v1/status_routes.go), the watch file from the run's ConfigMap, and a
 * real Prometheus that the test writes the run's samples to while the starter watches.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { parsePlatformConfig, testSchema } from '../../constructs/src/config/platform-config';
import { resolveBackend } from '../../constructs/src/backend/backend';
import { ABORT_WATCH_KEY } from '../../constructs/src/k6/abort-watch-file';
import { STARTER_MOUNT_PATH, STARTER_SCRIPT_KEY, starterScript } from '../../constructs/src/k6/starter';
import { LoadTest, type LoadTestProps } from '../../constructs/src/load-test/load-test';
import { TestScripts } from '../../constructs/src/load-test/test-scripts';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { fakeRunner, runStarterScript, type FakeRunner, type StarterResult } from '../support/fake-k6-runner';
import { pushK6Run, type K6RunTruth } from '../support/k6-run';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SCRIPTS_DIR = path.resolve(__dirname, '..', '..', 'scripts');
const RW_URL = 'http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write';
const PUSH_SECONDS = 2;
const FAILING = [{ url: 'http://target.local/', failureFraction: [0.25, 0] }];
/** Runners of a run that must abort end on their own after this: a missed crossing fails the test, not its timeout. */
const MISSED_MS = 15_000;
let prom: PrometheusHandle;
let dir: string;
let jobCount = 0;

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  dir = mkdtempSync(path.join(tmpdir(), 'k6-abort-incluster-'));
  writeFileSync(path.join(dir, STARTER_SCRIPT_KEY), starterScript());
});
afterAll(async () => {
  await prom.stop();
  rmSync(dir, { recursive: true, force: true });
});

function synth(test: Record<string, unknown>, extra: Partial<LoadTestProps> = {}): Obj[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'k6' });
  const scripts = new TestScripts(chart, 'Scripts', { testName: String(test.name), entry: 'sample.js', scriptsDir: SCRIPTS_DIR });
  new LoadTest(chart, 'Run', {
    test: testSchema.parse({ script: 'sample.js', runId: String(test.name), schedule: '0 2 * * *', parallelism: 2, ...test }),
    scripts,
    remoteWriteUrl: RW_URL,
    runner: { pushInterval: `${PUSH_SECONDS}s` },
    ...extra,
  });
  return Testing.synth(chart) as Obj[];
}

const starterOf = (objs: Obj[]): Obj => objs.find((o) => o.kind === 'CronJob')!.spec.jobTemplate.spec.template.spec.containers[1];
const configOf = (objs: Obj[]): Obj => objs.find((o) => o.kind === 'ConfigMap' && String(o.metadata.name).endsWith('-config'))!;

/**
 * The starter container's environment as the kubelet gives it to runner 0's pod of Job `job`: the downward-API field
 * refs resolved, `$(VAR)` of earlier variables expanded; the watch file and Prometheus pointed at this machine.
 */
function podEnv(starter: Obj, job: string, watchFile: string, queryUrl: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of starter.env as Obj[]) {
    const field = e.valueFrom?.fieldRef?.fieldPath as string | undefined;
    env[e.name] =
      field === "metadata.labels['batch.kubernetes.io/job-name']"
        ? job
        : field === "metadata.annotations['batch.kubernetes.io/job-completion-index']"
          ? '0'
          : String(e.value).replace(/\$\(([A-Z0-9_]+)\)/g, (_, v: string) => env[v] ?? '');
  }
  delete env.STATE_DIR; // the harness gives each run a state directory of its own
  return { ...env, ABORT_WATCH_FILE: watchFile, PROMETHEUS_QUERY_URL: queryUrl, RUN_POLL_INTERVAL_SECONDS: '1' };
}

interface Watched {
  readonly result: StarterResult;
  readonly runners: FakeRunner[];
  readonly truth: K6RunTruth;
  /** When the test began writing the run's samples, and when the write had landed (unix ms). */
  readonly pushStarted: number;
  readonly pushed: number;
  readonly job: string;
}

/**
 * Synthesizes the scheduled test, starts its starter against two fake runners (paused until resumed, then running
 * until stopped or for `runMs`), and once both are resumed writes the run's samples (`urls`) to Prometheus.
 */
async function watch(
  thresholds: unknown,
  urls: typeof FAILING | undefined,
  runMs?: number,
  access: { readonly queryUrl?: string; readonly env?: Record<string, string> } = {},
): Promise<Watched> {
  const objs = synth({ name: 'nightly', thresholds });
  const starter = starterOf(objs);
  const job = `nightly-${29410000 + ++jobCount}`;
  const watchFile = path.join(dir, `${job}-${ABORT_WATCH_KEY}`);
  writeFileSync(watchFile, configOf(objs).data[ABORT_WATCH_KEY] as string);
  const t0 = Date.now();
  const runners = await Promise.all([0, 1].map(() => fakeRunner(0, t0, runMs !== undefined ? { runMs } : {})));
  const args = (starter.args as string[]).map((_, i) => runners[i]!.url);
  const env = { ...podEnv(starter, job, watchFile, access.queryUrl ?? prom.url), ...access.env };
  const started = runStarterScript(path.join(dir, STARTER_SCRIPT_KEY), dir, args, env);
  while (runners.some((r) => r.resumedAt.length === 0)) await new Promise((r) => setTimeout(r, 50));
  const pushStarted = Date.now();
  const truth = await pushK6Run(prom.writeUrl, {
    testid: job,
    runners: 2,
    durationSeconds: 4,
    pushIntervalSeconds: PUSH_SECONDS,
    endTime: pushStarted,
    ...(urls !== undefined ? { urls } : {}),
  });
  const pushed = Date.now();
  const result = await started;
  await Promise.all(runners.map((r) => r.close()));
  return { result, runners, truth, pushStarted, pushed, job };
}

const lastStop = (runners: readonly FakeRunner[]) => Math.max(...runners.map((r) => r.stoppedAt[0] ?? Infinity));

describe('a scheduled run carries the abortOnFail watcher beside runner 0', () => {
  test('its ConfigMap holds the watch file, mounted beside the starter script, with the env it reads', () => {
    // GIVEN a scheduled test with one abortOnFail threshold among others
    const objs = synth({ name: 'nightly', thresholds: { http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true }], http_reqs: ['count>0'] } });
    // THEN the watch file has the one abortOnFail threshold, with the placeholders the starter fills
    const lines = (configOf(objs).data[ABORT_WATCH_KEY] as string).trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const [delay, name, crossed, observed] = lines[0]!.split('\t');
    expect([delay, name]).toEqual(['-', 'http_req_failed rate<0.1']);
    expect(crossed).toBe(`(${observed!}) >= bool 0.1`);
    expect(observed).toContain('testid="@K6P_TESTID@"');
    expect(observed).toContain('[@K6P_WINDOW@s]');
    // AND the starter's volume projects it next to the script, and its env names it, the push interval, Prometheus'
    // query API (the remote-write URL's base) and the run id (the Job name)
    const pod = objs.find((o) => o.kind === 'CronJob')!.spec.jobTemplate.spec.template.spec;
    expect(pod.volumes.find((v: Obj) => v.name === 'starter').configMap.items).toEqual([
      { key: STARTER_SCRIPT_KEY, path: STARTER_SCRIPT_KEY },
      { key: ABORT_WATCH_KEY, path: ABORT_WATCH_KEY },
    ]);
    const env = Object.fromEntries((starterOf(objs).env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      ABORT_WATCH_FILE: `${STARTER_MOUNT_PATH}/${ABORT_WATCH_KEY}`,
      ABORT_INTERVAL_SECONDS: String(PUSH_SECONDS),
      PROMETHEUS_QUERY_URL: 'http://kube-prometheus-stack-prometheus.monitoring:9090',
      RUN_TESTID: '$(K6_PLATFORM_JOB_NAME)',
    });
  });

  test('no abortOnFail threshold, or no schedule: no watch file and no watch env (loadtest run watches its own runs)', () => {
    const plain = synth({ name: 'nightly', thresholds: { http_req_failed: ['rate<0.1'] } });
    expect(configOf(plain).data[ABORT_WATCH_KEY]).toBeUndefined();
    expect((starterOf(plain).env as Obj[]).map((e) => e.name)).not.toContain('ABORT_WATCH_FILE');
    const unscheduled = synth({
      name: 'adhoc',
      schedule: undefined,
      thresholds: { http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true }] },
    });
    expect(configOf(unscheduled).data[ABORT_WATCH_KEY]).toBeUndefined();
  });

  test('remote-write credentials read the query API too; an endpoint without /api/v1/write needs prometheusQueryUrl', () => {
    const thresholds = { http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true }] };
    const authed = synth(
      { name: 'nightly', thresholds },
      {
        runner: { remoteWriteAuth: { type: 'bearer', token: { name: 'rw', key: 'token' } } },
        remoteWriteUrl: 'https://metrics.example.com/push',
        prometheusQueryUrl: 'https://metrics.example.com/prometheus',
      },
    );
    const env = Object.fromEntries((starterOf(authed).env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env.PROMETHEUS_BEARER_TOKEN).toEqual({ secretKeyRef: { name: 'rw', key: 'token' } });
    expect(env.PROMETHEUS_QUERY_URL).toBe('https://metrics.example.com/prometheus');
    expect(() => synth({ name: 'nightly', thresholds }, { remoteWriteUrl: 'https://user:pw@metrics.example.com/push' })).toThrow(
      "LoadTest: test 'nightly' is scheduled and has abortOnFail thresholds, which the starter evaluates at the Prometheus query API; " +
        "'remoteWriteUrl' (https://***@metrics.example.com/push) does not end in /api/v1/write, so set 'prometheusQueryUrl'",
    );
  });
});

describe('the starter watches abortOnFail over all runners of a scheduled run', () => {
  test('a crossing stops every runner within one push interval (plus the round), exits 99 and names the threshold', async () => {
    // WHEN the runners write 12.5 % failed requests over both (25 % on runner 0) once the run began
    const w = await watch({ http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true }], http_reqs: ['count>0'] }, FAILING, MISSED_MS);
    // THEN each runner got exactly one stop, after the samples were written, within one push interval of their
    // landing plus one round's own work (two Prometheus queries and the runners' status polls: under 1 s here)
    for (const r of w.runners) expect(r.stoppedAt).toHaveLength(1);
    expect(lastStop(w.runners)).toBeGreaterThan(w.pushStarted);
    expect(lastStop(w.runners) - w.pushed).toBeLessThanOrEqual(PUSH_SECONDS * 1000 + 1000);
    // AND the starter exits with k6's code for an abort by threshold, naming it and the value over both runners
    const observed = w.truth.totals.failedRequests / w.truth.totals.requests;
    expect(observed).toBeGreaterThanOrEqual(0.1);
    expect(w.result.code).toBe(99);
    const reason = new RegExp(
      `^aborted by threshold: threshold http_req_failed rate<0\\.1 crossed \\(observed ${String(observed).replace('.', '\\.')}\\) \\d+s into the run\\n$`,
    );
    expect(w.result.terminationMessage).toMatch(reason);
    expect(w.result.stdout).toContain('starter: aborting: threshold http_req_failed rate<0.1 crossed');
    expect(w.result.stderr).toMatch(/starter: ABORTED: threshold http_req_failed rate<0\.1 crossed/);
  });

  test('delayAbortEval: a crossing from the first samples aborts only once the delay is behind', async () => {
    const w = await watch({ http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: '5s' }] }, FAILING, MISSED_MS);
    const resumed = Math.max(...w.runners.map((r) => r.resumedAt[0]!));
    expect(w.result.code).toBe(99);
    // k6 v1.7.1 metrics/thresholds.go runAll: delayAbortEval < time spent in the test, strictly
    expect(lastStop(w.runners) - resumed).toBeGreaterThan(5000);
    expect(w.result.terminationMessage).toMatch(/crossed \(observed [0-9.]+\) ([6-9]|1\d)s into the run\n$/);
  });

  test("with a multi-tenant backend (Mimir): the backend's query URL, tenant header and credentials", () => {
    const cfg = parsePlatformConfig({
      monitoring: {
        backend: {
          kind: 'mimir',
          url: 'https://mimir.example.com',
          tenant: 'team-a',
          auth: { type: 'bearer', tokenSecret: { name: 'mimir', key: 'token' } },
        },
      },
    });
    const backend = resolveBackend(cfg.monitoring.backend!);
    const objs = synth(
      { name: 'nightly', thresholds: { http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true }] } },
      { backend, remoteWriteUrl: backend.remoteWriteUrl },
    );
    const env = Object.fromEntries((starterOf(objs).env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      PROMETHEUS_QUERY_URL: backend.queryUrl,
      PROMETHEUS_HEADERS: 'X-Scope-OrgID: team-a',
      PROMETHEUS_BEARER_TOKEN: { secretKeyRef: { name: 'mimir', key: 'token' } },
    });
    expect(backend.queryUrl).toBe('https://mimir.example.com/prometheus');
  });

  test('behind a bearer token and a tenant header: the watcher sends both, and no output holds the token', async () => {
    // GIVEN Prometheus behind a proxy that answers 401 unless the request carries the token (quotes and backslashes
    // included: the starter hands it to curl in a config file, escaped)
    const token = 'tok"s3\\cr3t-4711';
    const seen: (string | undefined)[] = [];
    const proxy = createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== `Bearer ${token}` || req.headers['x-scope-orgid'] !== 'team-a')
        return void res.writeHead(401).end('unauthorized');
      void fetch(`${prom.url}${req.url ?? '/'}`).then(async (r) =>
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()),
      );
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const queryUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const w = await watch({ http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true }] }, FAILING, MISSED_MS, {
        queryUrl,
        env: { PROMETHEUS_BEARER_TOKEN: token, PROMETHEUS_HEADERS: 'X-Scope-OrgID: team-a' },
      });
      // THEN every query carried it and the crossing was seen through the proxy
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(new Set(seen)).toEqual(new Set([`Bearer ${token}`]));
      expect(w.result.code).toBe(99);
      for (const text of [w.result.stdout, w.result.stderr, w.result.terminationMessage]) expect(text).not.toContain('s3');
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  test('no crossing: every runner ends on its own, nothing is stopped, the starter exits 0', async () => {
    const w = await watch({ http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true }] }, undefined, 5000);
    expect(w.runners.map((r) => r.stoppedAt)).toEqual([[], []]);
    expect(w.result.code).toBe(0);
    expect(w.result.terminationMessage).toBe('');
    expect(w.result.stdout).toContain('starter: all 2 runners finished\n');
    expect(w.result.stderr).toBe('');
  });
});
