/**
 * A Kubernetes API server on loopback that plays a cluster running the runs `loadtest run` applies (mode "jobs"):
 * it answers the discovery, server-side apply (PATCH), list and delete requests that @kubernetes/client-node sends for
 * the run's objects (cli/cluster/kube.ts), and when a run's runner Job is applied it "runs" it: the test's callback
 * writes the run's metrics (the runners' remote write), and until that callback resolves the runner Job and its pods
 * are running; afterwards they have succeeded, in the state test/cli/scripted-cluster.ts's `succeeded` step gives
 * (conditions `SuccessCriteriaMet` and `Complete`; the follower, cli/run/follow.ts, ends on `Complete`). Pods carry the
 * Indexed Job's completion-index annotation and the runner pod's k6 and starter containers, as the follower reads them.
 * As one cluster of a multi-cluster run (`gated`), the run goes on until its start Job was applied too, whose pod then
 * reports the resume `resumeLateMs` after the Job's START_AT, as the start Job's starter writes it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { COMPLETION_INDEX_ANNOTATION, RUNNER_COMPONENT } from '../../cli/run/follow';
import { LABELS } from '../../constructs/src/contract/labels';
import { readBody } from './http';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: { parallelism?: number; template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
}

/** How the fake plays one cluster of a multi-cluster run. */
export interface FakeApiOptions {
  /** The run goes on until a start Job was applied. @default false */
  readonly gated?: boolean;
  /** Its start pod reports the resume this long after START_AT. @default 0 */
  readonly resumeLateMs?: number;
}

/** The resources the platform's run objects use, by group version (what client-node's discovery reads). */
const RESOURCES: Readonly<Record<string, readonly { name: string; kind: string }[]>> = {
  '/api/v1': [
    { name: 'configmaps', kind: 'ConfigMap' },
    { name: 'pods', kind: 'Pod' },
    { name: 'secrets', kind: 'Secret' },
    { name: 'services', kind: 'Service' },
    { name: 'serviceaccounts', kind: 'ServiceAccount' },
  ],
  '/apis/batch/v1': [{ name: 'jobs', kind: 'Job' }],
  '/apis/networking.k8s.io/v1': [{ name: 'networkpolicies', kind: 'NetworkPolicy' }],
  '/apis/rbac.authorization.k8s.io/v1': [
    { name: 'roles', kind: 'Role' },
    { name: 'rolebindings', kind: 'RoleBinding' },
  ],
};

/** A running fake API server. */
export interface FakeApiServer {
  /** A kubeconfig file whose current context points at it. */
  readonly kubeconfig: string;
  /** Every object applied, in order. */
  readonly applied: readonly Obj[];
  /** Requests it could not answer (`METHOD url`): a test expects none. */
  readonly unexpected: readonly string[];
  stop(): Promise<void>;
}

/**
 * Starts the server and writes its kubeconfig into `dir`. `onRun(runId, test, runners)` is called once per applied
 * runner Job; the run succeeds when it resolves.
 */
export async function startFakeApiServer(
  dir: string,
  onRun: (runId: string, test: string, runners: number) => Promise<unknown>,
  options: FakeApiOptions = {},
): Promise<FakeApiServer> {
  const applied: Obj[] = [];
  const unexpected: string[] = [];
  const runs = new Map<string, { test: string; runners: number; done: boolean }>();
  const starts = new Map<string, number>();
  let runDone = false;
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = (code: number, obj: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    const groupVersion = RESOURCES[url.pathname];
    if (req.method === 'GET' && groupVersion !== undefined) {
      return json(200, {
        kind: 'APIResourceList',
        groupVersion: url.pathname.replace(/^\/apis?\//, ''),
        resources: groupVersion.map((r) => ({ ...r, namespaced: true, verbs: ['get', 'list', 'patch', 'delete'] })),
      });
    }
    if (req.method === 'PATCH') {
      const obj = JSON.parse(body) as Obj;
      applied.push(obj);
      const runId = obj.metadata.labels?.[LABELS.runId];
      if (obj.kind === 'Job' && obj.metadata.labels?.[LABELS.component] === RUNNER_COMPONENT && runId !== undefined && !runs.has(runId)) {
        const run = { test: obj.metadata.labels[LABELS.test] ?? '', runners: obj.spec?.parallelism ?? 1, done: false };
        runs.set(runId, run);
        void onRun(runId, run.test, run.runners).then(() => {
          runDone = true;
          run.done = options.gated !== true || starts.has(runId);
        });
      }
      if (obj.kind === 'Job' && obj.metadata.labels?.[LABELS.component] === 'start' && runId !== undefined) {
        const env = obj.spec?.template?.spec?.containers?.[0]?.env ?? [];
        starts.set(runId, Number(env.find((e) => e.name === 'START_AT')?.value));
        if (runDone && runs.has(runId)) runs.get(runId)!.done = true;
      }
      return json(200, obj);
    }
    const runId = /(?:^|,)k6\.platform\/run-id=([^,]+)/.exec(url.searchParams.get('labelSelector') ?? '')?.[1];
    const run = runId !== undefined ? runs.get(runId) : undefined;
    if (req.method === 'GET' && /\/namespaces\/[^/]+\/jobs$/.test(url.pathname)) {
      return json(200, { kind: 'JobList', apiVersion: 'batch/v1', metadata: {}, items: run ? [runnerJob(runId!, run)] : [] });
    }
    if (req.method === 'GET' && /\/namespaces\/[^/]+\/pods$/.test(url.pathname)) {
      const items: object[] = run ? Array.from({ length: run.runners }, (_, i) => runnerPod(runId!, run, i)) : [];
      const startAt = runId !== undefined ? starts.get(runId) : undefined;
      if (run && startAt !== undefined) items.push(startPod(runId!, run, startAt + (options.resumeLateMs ?? 0)));
      return json(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
    }
    if (req.method === 'DELETE') return json(200, { kind: 'Status', apiVersion: 'v1', status: 'Success', metadata: {} });
    unexpected.push(`${req.method} ${req.url}`);
    return json(404, {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: `unexpected ${req.method} ${req.url}`,
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  mkdirSync(dir, { recursive: true });
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: fake',
      `clusters: [{ name: fake, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]`,
      'users: [{ name: u, user: { token: fake-token } }]',
      'contexts: [{ name: fake, context: { cluster: fake, user: u } }]',
      '',
    ].join('\n'),
  );
  return { kubeconfig, applied, unexpected, stop: () => new Promise((r) => server.close(() => r())) };
}

const runLabels = (runId: string, test: string) => ({ [LABELS.runId]: runId, [LABELS.test]: test, [LABELS.component]: RUNNER_COMPONENT });
const isTrue = (type: string) => ({ type, status: 'True' });

function runnerJob(runId: string, run: { test: string; runners: number; done: boolean }) {
  return {
    metadata: { name: `${runId}-runner`, labels: runLabels(runId, run.test) },
    spec: { parallelism: run.runners, completions: run.runners },
    status: run.done
      ? { succeeded: run.runners, conditions: [isTrue('SuccessCriteriaMet'), isTrue('Complete')] }
      : { active: run.runners, ready: run.runners },
  };
}

/** Runner pod `i`: k6 and (beside runner 0) the starter, running and ready, then terminated with exit code 0. */
function runnerPod(runId: string, run: { test: string; done: boolean }, i: number) {
  const container = (name: string) =>
    run.done ? { name, ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } } : { name, ready: true, state: { running: {} } };
  return {
    metadata: { name: `${runId}-runner-${i}-x`, labels: runLabels(runId, run.test), annotations: { [COMPLETION_INDEX_ANNOTATION]: String(i) } },
    status: {
      phase: run.done ? 'Succeeded' : 'Running',
      conditions: [{ type: 'Ready', status: run.done ? 'False' : 'True' }],
      containerStatuses: [container('k6'), container('starter')],
    },
  };
}

/** The start Job's pod of a multi-cluster run, ended: its termination message says when it resumed the runners. */
function startPod(runId: string, run: { test: string }, resumedAt: number) {
  return {
    metadata: { name: `${runId}-start-x`, labels: { ...runLabels(runId, run.test), [LABELS.component]: 'start' } },
    status: {
      phase: 'Succeeded',
      containerStatuses: [
        { name: 'starter', ready: false, state: { terminated: { exitCode: 0, message: `resumed-at=${resumedAt} done-at=${resumedAt + 2}\n` } } },
      ],
    },
  };
}
