/**
 * Prometheus behind auth for `verdict`, `runs` and `run`: a small proxy in front of the real Prometheus harness that
 * answers 401 unless the request carries the expected `Authorization` header. Bearer tokens come from
 * `$LOADTEST_PROMETHEUS_TOKEN` or `--prometheus-token-file`, basic auth from `$LOADTEST_PROMETHEUS_USER` /
 * `$LOADTEST_PROMETHEUS_PASSWORD` or the URL's `user:pass@`. No output (stdout, stderr, JUnit file) ever holds a secret.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliContext } from '../../cli/index';
import { bufferOutput } from '../../cli/output';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { pushK6Run } from '../support/k6-run';
import { freePort, startPrometheus, type PrometheusHandle } from '../support/prometheus';
import { RUN, scriptedCluster, succeeded } from './scripted-cluster';
import { readBody } from '../support/http';

const repoRoot = path.resolve(__dirname, '..', '..');
const TOKEN = 'tok-s3cr3t-4711';
const USER = 'loadtest-ci';
const PASSWORD = 'pa55:w0rd-s3cr3t';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
/** Every form a secret could leak in. */
const SECRETS = [TOKEN, PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(`${USER}:${PASSWORD}`).toString('base64')];

let prom: PrometheusHandle;
let proxy: Server;
let proxyUrl: string;
let root: string;
/** The Authorization header the proxy admits. */
let expected = '';
/** The Authorization header of every request the proxy saw. */
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  // GIVEN a passing run of "sample" (the one `loadtest run` follows below)
  await pushK6Run(prom.writeUrl, { testid: RUN, test: 'sample', runners: 2, durationSeconds: 20, endTime: Date.now() - 60_000 });
  proxy = createServer(async (req, res) => {
    const text = await readBody(req);
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Bearer' });
      res.end('Unauthorized\n');
      return;
    }
    const answer = await fetch(`${prom.url}${req.url ?? ''}`, {
      method: req.method ?? 'GET',
      headers: { 'Content-Type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' },
      ...(req.method === 'POST' ? { body: text } : {}),
    });
    res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(await answer.text());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  root = mkdtempSync(path.join(tmpdir(), 'loadtest-auth-'));
  symlinkSync(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'));
  writeFileSync(
    path.join(root, 'Pulumi.dev.yaml'),
    'config:\n  k6platform:tests:\n    - name: sample\n      script: sample.js\n      parallelism: 2\n      thresholds: { http_reqs: ["count>0"] }\n',
  );
});
afterAll(async () => {
  prom.stop();
  await new Promise((r) => proxy.close(r));
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  seen.length = 0;
});

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, extra: Partial<CliContext> = {}) {
  const out = bufferOutput();
  const code = await runCli(argv, { out, env, rootDir: root, ...extra });
  const stdout = out.out.join('');
  const stderr = out.err.join('');
  return { code, stdout, stderr, all: stdout + stderr };
}

/** No secret in any of the texts. */
function expectNoSecret(...texts: string[]) {
  for (const t of texts) for (const s of SECRETS) expect(t).not.toContain(s);
}

describe('bearer token', () => {
  beforeEach(() => {
    expected = `Bearer ${TOKEN}`;
  });

  test('from $LOADTEST_PROMETHEUS_TOKEN: verdict is judged through the proxy, every request authorized', async () => {
    // WHEN
    const r = await cli(['verdict', '--testid', RUN, '--prometheus', proxyUrl, '--json'], { LOADTEST_PROMETHEUS_TOKEN: TOKEN });
    // THEN
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'pass', prometheus: proxyUrl });
    expect(seen.length).toBeGreaterThan(1);
    expect(new Set(seen)).toEqual(new Set([`Bearer ${TOKEN}`]));
    expectNoSecret(r.all);
  });

  test('from --prometheus-token-file (one line, trailing newline trimmed): runs judges each run with it', async () => {
    // GIVEN
    const file = path.join(root, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    // WHEN
    const r = await cli(['runs', '--since', '1h', '--prometheus', proxyUrl, '--prometheus-token-file', file]);
    // THEN
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${RUN} +sample .* pass$`, 'm'));
    expect(new Set(seen)).toEqual(new Set([`Bearer ${TOKEN}`]));
    expectNoSecret(r.all);
  });

  test('run: the live figures and the verdict carry the token', async () => {
    // GIVEN
    const file = path.join(root, 'token');
    writeFileSync(file, TOKEN);
    const s = scriptedCluster([succeeded]);
    const junit = path.join(root, 'run.xml');
    // WHEN
    const r = await cli(
      ['run', 'sample', '--run-id', RUN, '--prometheus', proxyUrl, '--prometheus-token-file', file, '--junit', junit],
      {},
      {
        connect: async () => s.cluster,
        sleep: s.advance,
      },
    );
    // THEN
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('verdict: PASS (1 thresholds over all runners)');
    expect(new Set(seen)).toEqual(new Set([`Bearer ${TOKEN}`]));
    expectNoSecret(r.all, readFileSync(junit, 'utf8'));
  });

  test('no credentials: says the server requires them and what to set, exit 1; wrong ones: refused, never echoed', async () => {
    // WHEN
    const none = await cli(['verdict', '--testid', RUN, '--prometheus', proxyUrl]);
    const wrong = await cli(['verdict', '--testid', RUN, '--prometheus', proxyUrl], { LOADTEST_PROMETHEUS_TOKEN: 'wrong-s3cr3t' });
    // THEN
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      `error: Prometheus at ${proxyUrl} requires authentication (HTTP 401 Unauthorized): set $LOADTEST_PROMETHEUS_TOKEN or --prometheus-token-file (bearer token), ` +
        'or $LOADTEST_PROMETHEUS_USER and $LOADTEST_PROMETHEUS_PASSWORD (basic auth)\n',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(`error: Prometheus at ${proxyUrl} refused the credentials given (HTTP 401 Unauthorized); check them\n`);
    expect(wrong.all).not.toContain('wrong-s3cr3t');
  });
});

describe('basic auth', () => {
  beforeEach(() => {
    expected = basic(USER, PASSWORD);
  });

  test('from $LOADTEST_PROMETHEUS_USER and $LOADTEST_PROMETHEUS_PASSWORD', async () => {
    const r = await cli(['verdict', '--testid', RUN, '--prometheus', proxyUrl], {
      LOADTEST_PROMETHEUS_USER: USER,
      LOADTEST_PROMETHEUS_PASSWORD: PASSWORD,
    });
    expect(r.code).toBe(0);
    expect(new Set(seen)).toEqual(new Set([basic(USER, PASSWORD)]));
    expectNoSecret(r.all);
  });

  test("from the URL's user:pass@ (--prometheus or $LOADTEST_PROMETHEUS_URL): used, and the URL is printed without them", async () => {
    // GIVEN the password URL-encoded in the URL, as a URL must carry a ":"
    const withCredentials = proxyUrl.replace('http://', `http://${USER}:${encodeURIComponent(PASSWORD)}@`);
    // WHEN a run without data (its message names the Prometheus), by option and by environment
    const r = await cli(['verdict', '--testid', 'sample-none', '--prometheus', withCredentials]);
    const viaEnv = await cli(['runs', '--since', '1h', '--json'], { LOADTEST_PROMETHEUS_URL: withCredentials });
    // THEN
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`verdict: NO-DATA: no data for testid "sample-none" in Prometheus at ${proxyUrl}\n`);
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ prometheus: proxyUrl, runs: [{ testid: RUN, verdict: { status: 'pass' } }] });
    expect(new Set(seen)).toEqual(new Set([basic(USER, PASSWORD)]));
    expectNoSecret(r.all, viaEnv.all);
  });

  test('an unreachable Prometheus given with user:pass@ is named without them', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const r = await cli(['verdict', '--testid', RUN, '--prometheus', closed.replace('http://', `http://${USER}:${encodeURIComponent(PASSWORD)}@`)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`^error: Prometheus at ${closed.replace(/[.]/g, '\\.')} is unreachable: connect ECONNREFUSED`));
    expectNoSecret(r.all);
  });
});

describe('credentials as usage errors (exit 2), never echoed', () => {
  test.each<[string, string[], NodeJS.ProcessEnv, string]>([
    [
      'an invalid URL with credentials',
      ['--prometheus', `http://${USER}:${PASSWORD} x@prom:9090`],
      {},
      `error: option '--prometheus <url>' argument 'http://***@prom:9090' is invalid. must be an http(s) URL such as http://localhost:9090.\n`,
    ],
    [
      'a user without a password',
      [],
      { LOADTEST_PROMETHEUS_USER: USER },
      'error: $LOADTEST_PROMETHEUS_USER is set but $LOADTEST_PROMETHEUS_PASSWORD is not: basic auth for Prometheus needs both\n',
    ],
    [
      'a token and basic auth at once',
      [],
      { LOADTEST_PROMETHEUS_TOKEN: TOKEN, LOADTEST_PROMETHEUS_USER: USER, LOADTEST_PROMETHEUS_PASSWORD: PASSWORD },
      'error: Prometheus credentials given twice: a bearer token ($LOADTEST_PROMETHEUS_TOKEN) and basic auth ($LOADTEST_PROMETHEUS_USER/$LOADTEST_PROMETHEUS_PASSWORD); give one\n',
    ],
    [
      'a token that cannot be a header',
      [],
      { LOADTEST_PROMETHEUS_TOKEN: `${TOKEN} x` },
      'error: the bearer token of $LOADTEST_PROMETHEUS_TOKEN holds spaces or characters an HTTP header cannot carry (printable ASCII only)\n',
    ],
    [
      'a missing token file',
      ['--prometheus-token-file', '/nonexistent/token'],
      {},
      'error: --prometheus-token-file /nonexistent/token: cannot read it (ENOENT); give a file holding the token\n',
    ],
  ])('%s', async (_, args, env, message) => {
    // WHEN
    const r = await cli(['verdict', '--testid', RUN, ...args], env);
    // THEN
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(message);
    expect(r.stdout).toBe('');
    expect(seen).toEqual([]);
    expectNoSecret(r.all);
  });
});
