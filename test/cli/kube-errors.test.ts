/**
 * `loadtest run` against kubeconfigs that cannot work: none at all, an API server nothing listens on, a --context the
 * kubeconfig lacks, a file that is not a kubeconfig. The whole CLI runs in a child process with the real client-node
 * adapter (cli/cluster/kube.ts), a HOME of its own and no in-cluster service account.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SERVICE_ACCOUNT_TOKEN } from '../../cli/cluster/cluster';
import { freePort } from '../support/prometheus';

const repoRoot = path.resolve(__dirname, '..', '..');
let dir: string;
let root: string;
let home: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'loadtest-kube-errors-'));
  root = path.join(dir, 'repo');
  home = path.join(dir, 'home');
  mkdirSync(root);
  mkdirSync(home);
  symlinkSync(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'));
  writeFileSync(path.join(root, 'Pulumi.dev.yaml'), 'config:\n  k6platform:tests:\n    - name: sample\n      script: sample.js\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `loadtest <argv>` with only the given environment (plus PATH), a fresh HOME, no KUBECONFIG unless given. */
function loadtest(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
      [path.join(__dirname, 'cli-driver.ts'), ...argv],
      { env: { PATH: process.env.PATH ?? '', HOME: home, LOADTEST_TEST_ROOT: root, NO_COLOR: '1', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    ),
  );
}

function kubeconfig(name: string, server: string): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: fake
clusters: [{ name: fake, cluster: { server: "${server}" } }, { name: other, cluster: { server: "https://other.example:6443" } }]
users: [{ name: u, user: { token: secret-token } }]
contexts: [{ name: fake, context: { cluster: fake, user: u } }, { name: staging, context: { cluster: other, user: u } }]
`,
  );
  return file;
}

test('the machine is not a pod in a cluster (else the no-kubeconfig case would find the service account)', () => {
  expect(existsSync(SERVICE_ACCOUNT_TOKEN)).toBe(false);
});

test('no kubeconfig at all: says so and how to set one, exit 1, nothing about TLS', async () => {
  // WHEN no KUBECONFIG, no ~/.kube/config
  const r = await loadtest(['run', 'sample']);
  // THEN
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    `error: loadtest: no kubeconfig found ($KUBECONFIG is not set, ${path.join(home, '.kube', 'config')} does not exist, and this is not a pod in a cluster), ` +
      'so there is no cluster to run on; point $KUBECONFIG at a kubeconfig file (export KUBECONFIG=$HOME/.kube/config), or write ~/.kube/config ' +
      "(your cluster's get-credentials command, or kind/minikube/k3d create one), then check it with: kubectl config get-contexts\n",
  );
  expect(r.stderr).not.toContain('skipTLSVerify');
  // AND a KUBECONFIG naming only missing files says which
  const missing = await loadtest(['run', 'sample'], { KUBECONFIG: path.join(dir, 'nope') });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain(`error: loadtest: $KUBECONFIG names no file that exists (${path.join(dir, 'nope')}): no kubeconfig`);
});

test('an API server nothing listens on: the failed call, the reason and the kubectl cluster-info hint, exit 1', async () => {
  // GIVEN
  const port = await freePort();
  const file = kubeconfig('closed', `https://127.0.0.1:${port}`);
  // WHEN
  const r = await loadtest(['run', 'sample', '--run-id', 'sample-1'], { KUBECONFIG: file });
  // THEN
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    `error: loadtest: applying ServiceAccount/sample-1-runner failed: the API server https://127.0.0.1:${port} of kube-context 'fake' is unreachable (ECONNREFUSED); ` +
      'check the cluster is up and the context is the right one: kubectl cluster-info --context fake\n',
  );
  expect(r.stdout).toContain(`run sample-1: test sample, 2 runner(s), namespace k6, kube-context 'fake' (https://127.0.0.1:${port})`);
});

test('a --context the kubeconfig lacks: lists the contexts it has, exit 2', async () => {
  // GIVEN
  const file = kubeconfig('two-contexts', 'https://127.0.0.1:1');
  // WHEN
  const r = await loadtest(['run', 'sample', '--context', 'prod'], { KUBECONFIG: file });
  // THEN
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(`error: unknown kube-context 'prod' (--context): the kubeconfig ${file} has these contexts: fake, staging\n`);
});

test('a corrupt kubeconfig: names the file, exit 1, never prints its content', async () => {
  // GIVEN ~/.kube/config cut off in the middle, with a token in it
  mkdirSync(path.join(home, '.kube'), { recursive: true });
  const file = path.join(home, '.kube', 'config');
  writeFileSync(file, 'apiVersion: v1\nusers: [{ name: u, user: { token: hunter2-secret }\nclusters: [\n');
  try {
    // WHEN
    const r = await loadtest(['run', 'sample']);
    // THEN
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^error: loadtest: the kubeconfig ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid kubeconfig: .+\n$`),
    );
    expect(r.stderr).not.toContain('hunter2');
  } finally {
    rmSync(path.join(home, '.kube'), { recursive: true, force: true });
  }
});
