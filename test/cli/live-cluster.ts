/**
 * A cluster for multi-cluster `loadtest run` tests that runs what is applied to it for real, on this machine: the
 * runner Job becomes fake k6 runners (test/support/fake-k6-runner.ts, k6 v1.7.1's REST API) and the starter
 * container beside runner 0, the start Job and the stop Job run constructs/src/k6/starter.sh with sh + curl, with
 * the env and args of their manifests (the runners' DNS names pointed at the fake runners). Jobs and Pods are reported
 * as the API server would (the states of test/cli/scripted-cluster.ts), from the runners' and the scripts' state.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { JobInfo, KubeObject, PodInfo, RunCluster } from '../../cli/cluster/cluster';
import { COMPLETION_INDEX_ANNOTATION } from '../../cli/run/follow';
import { LABELS } from '../../constructs/src/contract/labels';
import { fakeRunner, type FakeOptions, type FakeRunner } from '../support/fake-k6-runner';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const STARTER_SH = path.resolve(__dirname, '../../constructs/src/k6/starter.sh');

/** One run of starter.sh. */
export interface ScriptRun {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stateDir: string;
  code?: number | null;
  stdout: string;
  stderr: string;
  endedAt?: number;
  readonly done: Promise<void>;
  /** The termination log ('' when nothing). */
  message(): string;
  /** Ends the script with SIGTERM, as Kubernetes ends a deleted pod's containers (nothing when it has ended). */
  terminate(): void;
}

/** Runs starter.sh as its container would: `env` its env, a state dir and termination log of its own under `dir`. */
export function runScript(dir: string, args: readonly string[], env: Record<string, string>): ScriptRun {
  const stateDir = mkdtempSync(path.join(dir, 'state-'));
  const log = path.join(stateDir, 'termination-log');
  writeFileSync(log, '');
  const child = spawn('sh', [STARTER_SH, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, STATE_DIR: stateDir, TERMINATION_LOG: log, POLL_INTERVAL_SECONDS: '0.2' },
  });
  const run: ScriptRun = {
    args,
    env,
    stateDir,
    stdout: '',
    stderr: '',
    done: new Promise<void>((resolve) =>
      child.on('close', (code) => {
        run.code = code;
        run.endedAt = Date.now();
        resolve();
      }),
    ),
    message: () => readFileSync(log, 'utf8'),
    terminate: () => {
      if (run.endedAt === undefined) child.kill('SIGTERM');
    },
  };
  child.stdout.on('data', (c: Buffer) => (run.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (run.stderr += c.toString()));
  return run;
}

/** The env of a container as the kubelet gives it: field refs resolved, `$(VAR)` of earlier variables expanded. */
function containerEnv(c: Obj, fields: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of (c.env ?? []) as Obj[]) {
    const field = e.valueFrom?.fieldRef?.fieldPath as string | undefined;
    if (field !== undefined) env[e.name] = fields[field] ?? '';
    else if (e.value !== undefined) env[e.name] = String(e.value).replace(/\$\(([A-Z0-9_]+)\)/g, (_, v: string) => env[v] ?? '');
  }
  delete env.STATE_DIR;
  return env;
}

/** What a live cluster does with its runners. */
export interface LiveOptions {
  /** Each runner turns ready (PausedBeforeRun) this long after the apply. @default 200 */
  readonly readyAfterMs?: number;
  /** Each runner's run lasts this long after its resume. @default 1500 */
  readonly runMs?: number;
  /** Runner 0 of this cluster crashes (k6 exit 107) this long after its resume. @default never */
  readonly crashAfterMs?: number;
  /** Called once this cluster's runner Job is applied. */
  readonly onRunnerJob?: () => void;
  /** Extra fake runner options. */
  readonly runner?: FakeOptions;
}

/** A live cluster: its {@link RunCluster}, what was applied, its runners and the starter runs. */
export interface LiveCluster {
  readonly cluster: RunCluster;
  readonly applied: KubeObject[];
  readonly calls: string[];
  readonly runners: FakeRunner[];
  /** The starter beside runner 0, the start Job's and the stop Job's starter runs, once applied. */
  readonly scripts: { sidecar?: ScriptRun; start?: ScriptRun; stop?: ScriptRun };
  /** Waits for every script and closes the runners. */
  close(): Promise<void>;
}

const component = (o: { metadata: { labels?: Readonly<Record<string, string>> } }) => o.metadata.labels?.[LABELS.component];
const terminated = (r: ScriptRun) => (r.code !== undefined ? { terminated: { exitCode: r.code ?? 137, message: r.message() } } : {});

/** A live cluster named `name`; scripts write their state under `dir`. */
export function liveCluster(name: string, dir: string, o: LiveOptions = {}): LiveCluster {
  const applied: KubeObject[] = [];
  const calls: string[] = [];
  const runners: FakeRunner[] = [];
  const scripts: LiveCluster['scripts'] = {};
  let runnerJobName: string | undefined;
  let jobLabels: Record<string, string> = {};
  /** The fake runner behind a runner URL of a manifest (`http://<job>-<i>.<svc>...` or runner 0's loopback). */
  const urlOf = (u: string) => runners[u.includes('127.0.0.1') ? 0 : Number(/-(\d+)$/.exec(/\/\/([^.]+)\./.exec(u)![1]!)![1])]!.url;
  const crashedAt = () =>
    o.crashAfterMs !== undefined && runners[0]?.resumedAt[0] !== undefined ? runners[0].resumedAt[0] + o.crashAfterMs : undefined;

  const startRunners = async (job: Obj) => {
    const t0 = Date.now();
    runnerJobName = job.metadata.name as string;
    jobLabels = job.spec.template.metadata.labels as Record<string, string>;
    const n = job.spec.completions as number;
    for (let i = 0; i < n; i++) runners.push(await fakeRunner(o.readyAfterMs ?? 200, t0, { runMs: o.runMs ?? 1500, ...o.runner }));
    const starter = (job.spec.template.spec.containers as Obj[]).find((c) => c.name === 'starter')!;
    const env = containerEnv(starter, {
      "metadata.labels['batch.kubernetes.io/job-name']": runnerJobName,
      "metadata.annotations['batch.kubernetes.io/job-completion-index']": '0',
    });
    scripts.sidecar = runScript(dir, (starter.args as string[]).map(urlOf), env);
    o.onRunnerJob?.();
  };
  const runJob = (job: Obj, key: 'start' | 'stop') => {
    const c = job.spec.template.spec.containers[0] as Obj;
    const args = (c.args as string[]).map((a) => (a.startsWith('--') ? a : urlOf(a)));
    scripts[key] = runScript(dir, args, containerEnv(c, {}));
  };

  const runnerPods = (): PodInfo[] => {
    const now = Date.now();
    const crash = crashedAt();
    return runners.map((r, i) => {
      const crashed = i === 0 && crash !== undefined && now >= crash;
      const stopped = r.stoppedAt.length > 0;
      const ended = r.endedAt !== undefined && now >= r.endedAt;
      const k6 = crashed
        ? { terminated: { exitCode: 107 } }
        : stopped
          ? { terminated: { exitCode: 103 } }
          : ended
            ? { terminated: { exitCode: 0 } }
            : {};
      const sidecar = scripts.sidecar!;
      const starter =
        i === 0
          ? { name: 'starter', ready: existsSync(path.join(sidecar.stateDir, 'started')) && sidecar.code === undefined, state: terminated(sidecar) }
          : { name: 'starter', ready: false, state: { terminated: { exitCode: 0 } } };
      const k6Ready = r.readyAt !== undefined && now >= r.readyAt && k6.terminated === undefined;
      const phase = k6.terminated === undefined ? 'Running' : k6.terminated.exitCode === 0 ? 'Succeeded' : 'Failed';
      return {
        metadata: { name: `${runnerJobName}-${i}-${name}`, labels: jobLabels, annotations: { [COMPLETION_INDEX_ANNOTATION]: String(i) } },
        status: { phase, containerStatuses: [{ name: 'k6', ready: k6Ready, state: k6 }, starter] },
      };
    });
  };
  const jobPod = (job: KubeObject | undefined, run: ScriptRun | undefined): PodInfo[] =>
    job === undefined || run === undefined
      ? []
      : [
          {
            metadata: { name: `${job.metadata.name}-x`, labels: (job as Obj).spec.template.metadata.labels as Record<string, string> },
            status: {
              phase: run.code === undefined ? 'Running' : run.code === 0 ? 'Succeeded' : 'Failed',
              containerStatuses: [{ name: 'starter', state: terminated(run) }],
            },
          },
        ];
  const runnerJobInfo = (): JobInfo | undefined => {
    if (runnerJobName === undefined) return undefined;
    const pods = runnerPods();
    const failedPod = pods.find((p) => p.status?.phase === 'Failed');
    const sidecarFailed = scripts.sidecar?.code !== undefined && scripts.sidecar.code !== 0;
    const done = pods.filter((p) => p.status?.phase === 'Succeeded').length;
    const conditions =
      failedPod !== undefined || sidecarFailed
        ? [{ type: 'Failed', status: 'True', reason: 'PodFailurePolicy', message: `in ${name}` }]
        : done === pods.length && scripts.sidecar?.code === 0
          ? [{ type: 'Complete', status: 'True' }]
          : [];
    return {
      metadata: { name: runnerJobName, labels: jobLabels },
      status: { active: pods.length - done, succeeded: done, failed: pods.filter((p) => p.status?.phase === 'Failed').length, conditions },
    };
  };
  const byComponent = (c: string) => applied.find((x) => x.kind === 'Job' && component(x) === c);

  const cluster: RunCluster = {
    description: `live '${name}'`,
    apply: async (objects) => {
      calls.push(`apply ${objects.map((x) => `${x.kind}/${x.metadata.name ?? '?'}`).join(' ')}`);
      for (const x of objects) {
        applied.push(x);
        if (x.kind === 'Job' && component(x) === 'runner') await startRunners(x as Obj);
        if (x.kind === 'Job' && component(x) === 'start') runJob(x as Obj, 'start');
        if (x.kind === 'Job' && component(x) === 'stopper') runJob(x as Obj, 'stop');
      }
    },
    listJobs: async () => {
      const job = runnerJobInfo();
      return job !== undefined ? [job] : [];
    },
    listPods: async () => [
      ...(runnerJobName !== undefined ? runnerPods() : []),
      ...jobPod(byComponent('start'), scripts.start),
      ...jobPod(byComponent('stopper'), scripts.stop),
    ],
    deleteJobs: async (ns, sel) => {
      calls.push(`deleteJobs ${ns} ${sel}`);
      // Deleting the run's Jobs deletes their pods, whose containers Kubernetes ends with SIGTERM: a runner pod's
      // starter still waiting for runners that were stopped and are gone would otherwise wait out its start timeout.
      scripts.sidecar?.terminate();
    },
    readCrd: async () => undefined,
    getTestRun: async () => undefined,
    deleteTestRun: async () => undefined,
  };
  const close = async () => {
    await Promise.all(Object.values(scripts).map((s) => s?.done));
    await Promise.all(runners.map((r) => r.close()));
  };
  return { cluster, applied, calls, runners, scripts, close };
}
