/**
 * The CLI's queries to a multi-tenant backend: the query URL, tenant header and basic-auth user come from the
 * environment's `monitoring.backend` (Mimir's layout: queries under /prometheus, the tenant in X-Scope-OrgID; grafana/mimir
 * docs/sources/mimir/references/http-api/index.md), the password from $LOADTEST_PROMETHEUS_PASSWORD, and
 * `--prometheus-tenant` / $LOADTEST_PROMETHEUS_TENANT override the tenant. A gateway on loopback plays Mimir's query
 * frontend in front of a real VictoriaMetrics holding a k6 run: it answers only requests with the right tenant and
 * credentials, so the verdict's values prove every query carried them.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/index';
import { bufferOutput } from '../../cli/output';
import type { VerdictJson } from '../../cli/verdict/json';
import { readBody } from '../support/http';
import { pushK6Run, type K6RunTruth } from '../support/k6-run';
import { startVictoriaMetrics, type VictoriaMetricsHandle } from '../support/victoria-metrics';

let vm: VictoriaMetricsHandle;
/** Tenant team-b's store: empty. */
let vmB: VictoriaMetricsHandle;
let gateway: Server;
let gatewayUrl: string;
let run: K6RunTruth;
let root: string;
/** Every request the gateway saw: path and headers. */
const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
const BASIC = `Basic ${Buffer.from('lt-reader:s3cret-pw').toString('base64')}`;

beforeAll(async () => {
  vm = await startVictoriaMetrics();
  vmB = await startVictoriaMetrics();
  run = await pushK6Run(vm.writeUrl, { testid: 'api-20261203-120000', test: 'api', runners: 2, durationSeconds: 30 });
  await vm.flush();
  // GIVEN a gateway: /prometheus/api/v1/query with the right basic auth reaches tenant team-a's VictoriaMetrics, or
  // team-b's (empty)
  gateway = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      seen.push({ path: req.url ?? '', headers: req.headers });
      if (req.headers.authorization !== BASIC) return void res.writeHead(401).end('no credentials');
      if (req.url !== '/prometheus/api/v1/query') return void res.writeHead(404).end('not found');
      const store = { 'team-a': vm, 'team-b': vmB }[String(req.headers['x-scope-orgid'])];
      if (store === undefined) return void res.writeHead(401).end('unknown tenant');
      const upstream = await fetch(`${store.url}/api/v1/query`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
      });
      res.writeHead(upstream.status, { 'Content-Type': 'application/json' }).end(await upstream.text());
    })();
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  root = mkdtempSync(path.join(tmpdir(), 'loadtest-tenant-'));
  symlinkSync(path.resolve(__dirname, '..', '..', 'scripts'), path.join(root, 'scripts'));
  writeFileSync(
    path.join(root, 'Pulumi.dev.yaml'),
    [
      'config:',
      '  k6platform:monitoring:',
      '    backend:',
      '      kind: mimir',
      `      url: ${gatewayUrl}`,
      '      tenant: team-a',
      '      auth: { type: basic, username: lt-reader, passwordSecret: { name: mimir, key: password } }',
      '  k6platform:tests:',
      '    - name: api',
      '      script: sample.js',
      '      thresholds: { http_reqs: ["count>0"] }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await new Promise((resolve) => gateway.close(resolve));
  await vm.stop();
  await vmB.stop();
});

async function verdict(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; doc: VerdictJson; err: string }> {
  seen.length = 0;
  const out = bufferOutput();
  const code = await runCli(['verdict', '--testid', run.testid, '--json', ...args], { out, env, rootDir: root });
  if (out.text() === '') throw new Error(`exit ${code}, stderr: ${out.err.join('')}`);
  return { code, doc: JSON.parse(out.text()) as VerdictJson, err: out.err.join('') };
}

test('the query URL, tenant header and user come from monitoring.backend, the password from the environment', async () => {
  // WHEN
  const { code, doc } = await verdict([], { LOADTEST_PROMETHEUS_PASSWORD: 's3cret-pw' });
  // THEN the run is found and judged through the gateway
  expect(doc.prometheus).toBe(`${gatewayUrl}/prometheus`);
  expect([code, doc.status, doc.thresholds[0]?.observed]).toEqual([0, 'pass', run.totals.requests]);
  expect(seen.length).toBeGreaterThan(1);
  for (const r of seen) expect([r.path, r.headers['x-scope-orgid'], r.headers.authorization]).toEqual(['/prometheus/api/v1/query', 'team-a', BASIC]);
});

test('--prometheus-tenant and $LOADTEST_PROMETHEUS_TENANT replace the tenant in the backend’s header', async () => {
  // WHEN another tenant is asked for, the gateway answers with that tenant's (empty) data
  const flag = await verdict(['--prometheus-tenant', 'team-b'], { LOADTEST_PROMETHEUS_PASSWORD: 's3cret-pw' });
  const env = await verdict([], { LOADTEST_PROMETHEUS_PASSWORD: 's3cret-pw', LOADTEST_PROMETHEUS_TENANT: 'team-b' });
  // THEN
  for (const v of [flag, env]) expect([v.code, v.doc.status]).toEqual([3, 'no-data']);
  expect(seen.every((r) => r.headers['x-scope-orgid'] === 'team-b')).toBe(true);
});

test('without the password no credentials are sent; the refusal names what to set', async () => {
  // WHEN
  seen.length = 0;
  const out = bufferOutput();
  const code = await runCli(['verdict', '--testid', run.testid], { out, env: {}, rootDir: root });
  // THEN
  expect(code).toBe(1);
  expect(out.err.join('')).toBe(
    `error: Prometheus at ${gatewayUrl}/prometheus requires authentication (HTTP 401 Unauthorized): set $LOADTEST_PROMETHEUS_TOKEN or ` +
      '--prometheus-token-file (bearer token), or $LOADTEST_PROMETHEUS_USER and $LOADTEST_PROMETHEUS_PASSWORD (basic auth)\n',
  );
  expect(seen.map((r) => r.headers.authorization)).toEqual([undefined]);
});

test('a tenant a header cannot carry is a usage error', async () => {
  // WHEN
  const out = bufferOutput();
  const code = await runCli(['verdict', '--testid', run.testid, '--prometheus-tenant', 'team a'], { out, env: {}, rootDir: root });
  // THEN
  expect(code).toBe(2);
  expect(out.err.join('')).toContain(
    'the tenant of --prometheus-tenant / $LOADTEST_PROMETHEUS_TENANT must be printable ASCII without spaces, got "team a"',
  );
});
