/**
 * A run over two clusters through the real client-node adapter (cli/cluster/kube.ts), in a child process: one
 * kubeconfig with two contexts, each pointing at its own fake API server (test/support/fake-api-server.ts), which plays
 * one cluster of the run and reports its start Job's resume time. The CLI reaches both API servers, applies each its
 * share, hands both the same start time and prints the skew of the resume times they report.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-api-server';
import { readBody } from '../support/http';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const repoRoot = path.resolve(__dirname, '..', '..');
const RUN = 'sample-20261204-130000';
let dir: string;
let root: string;
let prom: Server;
let promUrl: string;
const servers: FakeApiServer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'loadtest-multi-kube-'));
  root = path.join(dir, 'repo');
  mkdirSync(root);
  symlinkSync(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'));
  writeFileSync(
    path.join(root, 'Pulumi.dev.yaml'),
    [
      'config:',
      '  k6platform:monitoring:',
      '    backend: { kind: victoriametrics, url: "https://vm.example.com" }',
      '  k6platform:tests:',
      '    - name: sample',
      '      script: sample.js',
      '      parallelism: 3',
      '      thresholds: { http_req_failed: ["rate<0.01"] }',
      '',
    ].join('\n'),
  );
  // Prometheus with no data: the verdict answers "no data" (exit 3) after the run
  prom = createServer(async (req, res) => {
    const form = new URLSearchParams(await readBody(req));
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? form.get('query') ?? '';
    const resultType = /\]$/.test(query) ? 'matrix' : 'vector';
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType, result: [] } }));
  });
  await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
  promUrl = `http://127.0.0.1:${(prom.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await new Promise<void>((r) => prom.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const serverOf = (kubeconfig: string) => /server: "([^"]+)"/.exec(readFileSync(kubeconfig, 'utf8'))![1]!;

function loadtest(argv: string[], kubeconfig: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
      [path.join(__dirname, 'cli-driver.ts'), ...argv],
      { env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: kubeconfig, LOADTEST_TEST_ROOT: root, NO_COLOR: '1' }, timeout: 90_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    ),
  );
}

test('two kube-contexts, two API servers: each gets its share, both the same start time; the skew printed is the reported one', async () => {
  // GIVEN two fake clusters whose start Jobs report resuming 3 ms and 11 ms after the start time
  const [eu, us] = await Promise.all(
    [3, 11].map((late, i) =>
      startFakeApiServer(path.join(dir, `api-${i}`), () => new Promise((r) => setTimeout(r, 500)), { gated: true, resumeLateMs: late }),
    ),
  );
  servers.push(eu!, us!);
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: eu-west',
      `clusters: [{ name: eu, cluster: { server: "${serverOf(eu!.kubeconfig)}", insecure-skip-tls-verify: true } }, { name: us, cluster: { server: "${serverOf(us!.kubeconfig)}", insecure-skip-tls-verify: true } }]`,
      'users: [{ name: u, user: { token: fake-token } }]',
      'contexts: [{ name: eu-west, context: { cluster: eu, user: u } }, { name: us-east, context: { cluster: us, user: u } }]',
      '',
    ].join('\n'),
  );
  // WHEN
  const r = await loadtest(
    ['run', 'sample', '--run-id', RUN, '--context', 'eu-west', '--context', 'us-east', '--split', '2:1', '--prometheus', promUrl, '--timeout', '5s'],
    kubeconfig,
  );
  // THEN the run went through both API servers and finished; the verdict found no data in the empty backend
  expect(r.stderr).toBe('');
  expect(r.stdout).toContain(
    `run ${RUN}: test sample, 3 runner(s) in 2 clusters (eu-west: 2 (kube-context 'eu-west' (${serverOf(eu!.kubeconfig)})), us-east: 1 (kube-context 'us-east' (${serverOf(us!.kubeconfig)})))`,
  );
  expect(r.stdout).toContain('finished: 3 of 3 runners finished in 2 clusters\n');
  expect(r.code).toBe(3);
  for (const s of [eu!, us!]) expect(s.unexpected).toEqual([]);
  // AND each API server got its share: the runner Job of its runners, the shared sequence, its zone, then its start Job
  const runnerJob = (s: FakeApiServer) => s.applied.find((o) => o.kind === 'Job' && o.metadata.name === `${RUN}-runner`) as Obj;
  const startJob = (s: FakeApiServer) => s.applied.find((o) => o.kind === 'Job' && o.metadata.name === `${RUN}-start`) as Obj;
  expect([runnerJob(eu!).spec.completions, runnerJob(us!).spec.completions]).toEqual([2, 1]);
  for (const [s, zone] of [
    [eu!, 'eu-west'],
    [us!, 'us-east'],
  ] as const) {
    const args = runnerJob(s).spec.template.spec.containers[0].args as string[];
    expect(args).toContain('--execution-segment-sequence=0,1/3,2/3,1');
    expect(args).toContain(`zone=${zone}`);
  }
  const startAt = (s: FakeApiServer) => Number((startJob(s).spec.template.spec.containers[0].env as Obj[]).find((e) => e.name === 'START_AT')!.value);
  expect(startAt(eu!)).toBe(startAt(us!));
  // AND the skew is the difference of the resume times the two start Jobs reported (3 and 11 ms after the start time)
  expect(r.stdout).toMatch(/^start: 2 clusters resumed 3 ms after the start time; skew 8 ms \(eu-west \+0 ms, us-east \+8 ms\)$/m);
}, 120_000);
