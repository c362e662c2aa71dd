/**
 * The client-node adapter against a fake API server on loopback: the requests it sends (server-side apply, list and
 * delete by label selector) and how it reads the answers. It never calls a runner through the pod proxy: the runners'
 * NetworkPolicy admits only pods of the run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { readBody } from '../support/http';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly contentType?: string;
  readonly authorization?: string;
  readonly body: string;
}

const repoRoot = path.resolve(__dirname, '..', '..');
let server: Server;
let dir: string;
const seen: Seen[] = [];

/** The TestRun CRD of k6-operator v1.6.0, as the API server returns it. */
const TESTRUN_CRD = YAML.parse(readFileSync(path.join(repoRoot, 'constructs', 'crds', 'k6.io_testruns.yaml'), 'utf8')) as unknown;
const TESTRUN = { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: 'run', namespace: 'k6' }, status: { stage: 'started' } };
const notFound = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' };

const resources = {
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [{ name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: ['patch'] }],
  },
  '/apis/batch/v1': {
    kind: 'APIResourceList',
    groupVersion: 'batch/v1',
    resources: [{ name: 'jobs', namespaced: true, kind: 'Job', verbs: ['patch'] }],
  },
};

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const text = await readBody(req);
    const url = req.url ?? '';
    seen.push({ method: req.method ?? '', url, contentType: req.headers['content-type'], authorization: req.headers.authorization, body: text });
    const json = (code: number, obj: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    const pathname = url.split('?')[0]!;
    if (req.method === 'GET' && pathname in resources) return json(200, resources[pathname as keyof typeof resources]);
    if (req.method === 'PATCH') return json(200, JSON.parse(text) as unknown);
    if (req.method === 'GET' && pathname.endsWith('/jobs')) {
      return json(200, {
        kind: 'JobList',
        apiVersion: 'batch/v1',
        metadata: {},
        items: [{ metadata: { name: 'run-runner' }, status: { active: 2, ready: 1 } }],
      });
    }
    if (req.method === 'GET' && pathname.endsWith('/pods')) {
      return json(200, {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: {},
        items: [{ metadata: { name: 'run-runner-0-abc' }, status: { phase: 'Running' } }],
      });
    }
    const crds = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/';
    if (req.method === 'GET' && pathname === `${crds}testruns.k6.io`) return json(200, TESTRUN_CRD);
    if (req.method === 'GET' && pathname === `${crds}forbidden.example.com`) {
      return json(403, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Forbidden',
        code: 403,
        message: 'customresourcedefinitions is forbidden',
      });
    }
    if (req.method === 'GET' && pathname === '/apis/k6.io/v1alpha1/namespaces/k6/testruns/run') return json(200, TESTRUN);
    if ((req.method === 'GET' || req.method === 'DELETE') && (pathname.startsWith(crds) || pathname.endsWith('/testruns/gone')))
      return json(404, notFound);
    if (req.method === 'DELETE') return json(200, { kind: 'Status', apiVersion: 'v1', status: 'Success', metadata: {} });
    return json(404, { message: `unexpected ${req.method} ${url}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  dir = mkdtempSync(path.join(tmpdir(), 'loadtest-kube-'));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(
    path.join(dir, 'config'),
    `apiVersion: v1
kind: Config
current-context: fake
clusters: [{ name: fake, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: secret-token } }]
contexts: [{ name: fake, context: { cluster: fake, user: u, namespace: k6 } }]
`,
  );
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('apply, list, delete: the requests sent and the answers read', async () => {
  // GIVEN a kubeconfig pointing at the fake API server
  // WHEN the adapter runs every operation once (in a child process: tsx loads the ESM-only client)
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
      [path.join(__dirname, 'kube-driver.ts')],
      { env: { ...process.env, KUBECONFIG: path.join(dir, 'config') }, timeout: 60_000 },
      (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
    ),
  );
  const result = JSON.parse(stdout) as {
    description: string;
    jobs: unknown[];
    pods: unknown[];
    crd: { name?: string; problem: string | null };
    noCrd: boolean;
    crdError: string;
    testRun: unknown;
    noTestRun: boolean;
  };

  // THEN the answers are passed through
  expect(result.description).toBe(`kube-context 'fake' (http://127.0.0.1:${(server.address() as AddressInfo).port})`);
  expect(result.jobs).toEqual([{ metadata: { name: 'run-runner' }, status: { active: 2, ready: 1 } }]);
  expect(result.pods).toEqual([{ metadata: { name: 'run-runner-0-abc' }, status: { phase: 'Running' } }]);

  // AND the writes are server-side apply with our field manager, in order, with the kube-context's token
  const writes = seen.filter((s) => s.method !== 'GET');
  expect(writes.map((s) => `${s.method} ${s.url}`)).toEqual([
    'PATCH /api/v1/namespaces/k6/configmaps/cm?fieldManager=loadtest&force=true',
    'PATCH /apis/batch/v1/namespaces/k6/jobs/run-runner?fieldManager=loadtest&force=true',
    'DELETE /apis/batch/v1/namespaces/k6/jobs?labelSelector=k6.platform%2Frun-id%3Drun&propagationPolicy=Background',
    'DELETE /apis/k6.io/v1alpha1/namespaces/k6/testruns/run?propagationPolicy=Background',
    'DELETE /apis/k6.io/v1alpha1/namespaces/k6/testruns/gone?propagationPolicy=Background',
  ]);
  expect(writes[0]!.contentType).toBe('application/apply-patch+yaml');
  expect(JSON.parse(writes[0]!.body)).toEqual({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm', namespace: 'k6', labels: { a: 'b' } },
    data: { k: 'v' },
  });
  expect(seen.some((s) => s.url.includes('/proxy/'))).toBe(false);
  for (const w of writes) expect(w.authorization).toBe('Bearer secret-token');
  // AND mode "operator": the CRD read from apiextensions.k8s.io/v1 and checked, a missing one is undefined, another error
  // names the CRD; the TestRun read from k6.io/v1alpha1, a missing one is undefined
  expect(result.crd).toEqual({ name: 'testruns.k6.io', problem: null });
  expect(result.noCrd).toBe(true);
  expect(result.crdError).toBe('loadtest: reading CustomResourceDefinition forbidden.example.com failed: customresourcedefinitions is forbidden');
  expect(result.testRun).toEqual(TESTRUN);
  expect(result.noTestRun).toBe(true);
  expect(seen.filter((s) => s.method === 'GET' && /customresourcedefinitions|testruns/.test(s.url)).map((s) => s.url)).toEqual([
    '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/testruns.k6.io',
    '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/none.example.com',
    '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/forbidden.example.com',
    '/apis/k6.io/v1alpha1/namespaces/k6/testruns/run',
    '/apis/k6.io/v1alpha1/namespaces/k6/testruns/gone',
  ]);
  expect(seen.find((s) => s.url.startsWith('/apis/batch/v1/namespaces/k6/jobs?'))?.url).toBe(
    '/apis/batch/v1/namespaces/k6/jobs?labelSelector=k6.platform%2Frun-id%3Drun',
  );
});
