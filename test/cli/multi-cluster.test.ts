/**
 * `loadtest run <test> --context a --context b [--split 3:1]`: one run over several clusters (docs/multi-cluster.md).
 * Each cluster is a live fake (test/cli/live-cluster.ts): fake k6 runners behind the real starter.sh of the starter
 * beside runner 0, the start Job and the stop Job, each run with sh + curl from the env and args of its manifest.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EXIT } from '../../cli/exit-codes';
import { runCli, type CliContext } from '../../cli/index';
import { bufferOutput } from '../../cli/output';
import type { JudgeRequest } from '../../cli/verdict/judge';
import type { PromQuerier } from '../../cli/prometheus/client';
import type { KubeObject } from '../../cli/cluster/cluster';
import { liveCluster, type LiveCluster, type LiveOptions } from './live-cluster';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const repoRoot = path.resolve(__dirname, '..', '..');
const RUN = 'sample-20261204-120000';
/** How late a cluster may resume after the start time in these tests (the CLI's default is 2 s). */
const MAX_LATE_MS = 1000;
let root: string;
let dir: string;

const BACKEND = ['  k6platform:monitoring:', '    backend: { kind: victoriametrics, url: "https://vm.example.com" }'];
const testEntry = (name: string, extra: string[] = []) => [`    - name: ${name}`, '      script: sample.js', '      parallelism: 4', ...extra];

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'loadtest-multi-'));
  dir = mkdtempSync(path.join(tmpdir(), 'loadtest-multi-scripts-'));
  symlinkSync(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'));
  mkdirSync(path.join(root, 'dashboards'));
  symlinkSync(path.join(repoRoot, 'dashboards', 'generated'), path.join(root, 'dashboards', 'generated'));
  const tests = [
    ...testEntry('sample', ['      thresholds: { http_req_failed: ["rate<0.01"] }']),
    ...testEntry('three', ['      thresholds: { http_req_failed: ["rate<0.01"] }']).map((l) => l.replace('parallelism: 4', 'parallelism: 3')),
    ...testEntry('guarded', ['      thresholds: { http_req_failed: [{ threshold: "rate<0.1", abortOnFail: true }] }']),
    ...testEntry('operated', ['      mode: operator']),
    ...testEntry('single', ['      parallelism: 1']).filter((l) => !l.includes('parallelism: 4')),
    ...testEntry('once', ['      setupOnce: true']),
    ...testEntry('few', ['      vus: 4']).map((l) => l.replace('parallelism: 4', 'parallelism: 2')),
  ];
  writeFileSync(path.join(root, 'Pulumi.dev.yaml'), ['config:', ...BACKEND, '  k6platform:tests:', ...tests, ''].join('\n'));
  writeFileSync(path.join(root, 'Pulumi.local.yaml'), ['config:', '  k6platform:tests:', ...testEntry('sample'), ''].join('\n'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

/** Prometheus that answers every query with one sample of `value` (or nothing). */
const fakeProm = (value?: number): PromQuerier => ({ query: async () => (value === undefined ? [] : [{ metric: {}, value }]) });

/** Runs the CLI against live clusters named by context; real clock, real timers, quick polls. */
async function run(argv: string[], clusters: Record<string, LiveCluster>, extra: Partial<CliContext> = {}) {
  const out = bufferOutput();
  const judged: JudgeRequest[] = [];
  const connected: (string | undefined)[] = [];
  const code = await runCli(['run', ...argv, '--run-id', RUN], {
    out,
    env: {},
    rootDir: root,
    prometheus: () => fakeProm(),
    judge: async (r) => {
      judged.push(r);
      return 0;
    },
    connect: async (context?: string) => {
      connected.push(context);
      const c = clusters[context ?? ''];
      if (c === undefined) throw new Error(`no cluster ${String(context)}`);
      return c.cluster;
    },
    pollIntervalMs: 100,
    abortIntervalMs: 200,
    startLeadMs: 1500,
    maxStartLateMs: MAX_LATE_MS,
    ...extra,
  });
  await Promise.all(Object.values(clusters).map((c) => c.close()));
  return { code, stdout: out.out.join(''), stderr: out.err.join(''), judged, connected };
}

function live(names: string[], o: Record<string, LiveOptions> = {}): Record<string, LiveCluster> {
  return Object.fromEntries(names.map((n) => [n, liveCluster(n, dir, o[n] ?? {})]));
}

const job = (c: LiveCluster, component: string): Obj | undefined =>
  c.applied.find((x) => x.kind === 'Job' && x.metadata.labels?.['app.kubernetes.io/component'] === component) as Obj | undefined;
const k6Args = (c: LiveCluster) => (job(c, 'runner')!.spec.template.spec.containers as Obj[]).find((x) => x.name === 'k6')!.args as string[];
const tagsOf = (args: string[]) => args.flatMap((a, i) => (args[i - 1] === '--tag' ? [a] : []));
const segmentsOf = (c: LiveCluster) => {
  const cm = c.applied.find((x) => x.kind === 'ConfigMap' && x.metadata.name === `${RUN}-config`) as KubeObject & { data: Record<string, string> };
  return Object.keys(cm.data)
    .filter((k) => /^runner-\d+\.json$/.test(k))
    .sort()
    .map((k) => (JSON.parse(cm.data[k]!) as { executionSegment: string }).executionSegment);
};
const startAtOf = (c: LiveCluster) =>
  Number((job(c, 'start')!.spec.template.spec.containers[0].env as Obj[]).find((e) => e.name === 'START_AT')!.value);
const resumedAtOf = (c: LiveCluster) => Number(/resumed-at=(\d+)/.exec(c.scripts.start!.message())![1]);

describe('a run over several clusters', () => {
  test('two clusters, --split 3:1: each gets its runners, sub-range segments, the shared sequence and its zone; they start together', async () => {
    // GIVEN two live clusters
    const clusters = live(['kind-eu', 'us_East.1']);
    // WHEN
    const r = await run(['sample', '--context', 'kind-eu', '--context', 'us_East.1', '--split', '3:1'], clusters);
    // THEN the run completed and was judged once over all clusters' runners (testid, the test's parallelism 4)
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.connected).toEqual(['kind-eu', 'us_East.1']);
    expect(r.judged).toHaveLength(1);
    expect(r.judged[0]).toMatchObject({ testid: RUN, test: { name: 'sample', parallelism: 4 } });
    expect(r.stdout).toContain('finished: 4 of 4 runners finished in 2 clusters\n');
    const [eu, us] = [clusters['kind-eu']!, clusters['us_East.1']!];
    // AND each cluster got its share: 3 runners of [0, 3/4), 1 of [3/4, 1], one sequence for all
    expect(segmentsOf(eu)).toEqual(['0:1/4', '1/4:1/2', '1/2:3/4']);
    expect(segmentsOf(us)).toEqual(['3/4:1']);
    for (const c of [eu, us]) expect(k6Args(c)).toContain('--execution-segment-sequence=0,1/4,1/2,3/4,1');
    expect(eu.runners).toHaveLength(3);
    expect(us.runners).toHaveLength(1);
    // AND the zone tag: the context name made label-safe
    expect(tagsOf(k6Args(eu))).toEqual(expect.arrayContaining(['zone=kind-eu', 'instance_id=kind-eu-$(K6_PLATFORM_RUNNER_INDEX)']));
    expect(tagsOf(k6Args(us))).toEqual(expect.arrayContaining(['zone=us-east-1', 'instance_id=us-east-1-$(K6_PLATFORM_RUNNER_INDEX)']));
    // AND the starter beside runner 0 resumed nothing itself; the start Job of each cluster did, at the shared time
    for (const c of [eu, us]) {
      expect(c.scripts.sidecar!.stdout).toContain('waiting for the start Job to resume them');
      expect(c.scripts.sidecar!.stdout).not.toContain('starter: resumed');
      expect(c.scripts.start!.code).toBe(0);
    }
    expect(startAtOf(eu)).toBe(startAtOf(us));
    const startAt = startAtOf(eu);
    // AND every runner of every cluster was resumed once, after the start time and within the bound
    const resumes = [...eu.runners, ...us.runners].map((x) => x.resumedAt);
    for (const rs of resumes) expect(rs).toHaveLength(1);
    const times = resumes.map((rs) => rs[0]!);
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(startAt);
      expect(t - startAt).toBeLessThanOrEqual(MAX_LATE_MS);
    }
    const spread = Math.max(...times) - Math.min(...times);
    expect(spread).toBeLessThanOrEqual(300);
    // AND the skew printed is the one measured: max - min of the clusters' reported resume times
    const reported = [resumedAtOf(eu), resumedAtOf(us)];
    const skew = Math.max(...reported) - Math.min(...reported);
    expect(r.stdout).toMatch(
      new RegExp(`^start: 2 clusters resumed \\d+ ms after the start time; skew ${skew} ms \\(kind-eu \\+\\d+ ms, us-east-1 \\+\\d+ ms\\)$`, 'm'),
    );
    process.stdout.write(
      `multi-cluster test: runner resume spread ${spread} ms, reported skew ${skew} ms, first resume ${Math.min(...times) - startAt} ms after START_AT\n`,
    );
  }, 30_000);

  test('three clusters, equal split by default: thirds, one runner each', async () => {
    const clusters = live(['a', 'b', 'c']);
    const r = await run(['three', '--context', 'a', '--context', 'b', '--context', 'c', '--zone', 'c=ap-south'], clusters);
    expect(r.code).toBe(0);
    expect(['a', 'b', 'c'].map((n) => segmentsOf(clusters[n]!))).toEqual([['0:1/3'], ['1/3:2/3'], ['2/3:1']]);
    for (const n of ['a', 'b', 'c']) expect(k6Args(clusters[n]!)).toContain('--execution-segment-sequence=0,1/3,2/3,1');
    expect(tagsOf(k6Args(clusters.c!))).toContain('zone=ap-south');
    const times = ['a', 'b', 'c'].map((n) => clusters[n]!.runners[0]!.resumedAt[0]!);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThanOrEqual(300);
    expect(r.stdout).toMatch(/^start: 3 clusters resumed \d+ ms after the start time; skew \d+ ms \(a \+\d+ ms, b \+\d+ ms, ap-south \+\d+ ms\)$/m);
    expect(r.judged[0]).toMatchObject({ testid: RUN, test: { parallelism: 3 } });
  }, 30_000);

  test('an abortOnFail crossing stops the runners of every cluster', async () => {
    // GIVEN Prometheus answering 0.5 for every query: http_req_failed rate<0.1 crosses at the first evaluation
    const clusters = live(['a', 'b'], { a: { runMs: 10_000 }, b: { runMs: 10_000 } });
    // WHEN
    const r = await run(['guarded', '--context', 'a', '--context', 'b'], clusters, { prometheus: () => fakeProm(0.5) });
    // THEN k6's abort code, and every runner of both clusters got a stop from its cluster's stop Job
    expect(r.code).toBe(99);
    expect(r.stdout).toContain('aborted: aborted by threshold http_req_failed rate<0.1 (observed 0.5)');
    for (const c of [clusters.a!, clusters.b!]) {
      expect(c.scripts.stop?.code).toBe(0);
      for (const x of c.runners) expect(x.stoppedAt).toHaveLength(1);
      expect(c.calls.at(-1)).toBe(`deleteJobs k6 k6.platform/run-id=${RUN}`);
    }
  }, 30_000);

  test('Ctrl-C stops every cluster', async () => {
    const ctrlC = new AbortController();
    const clusters = live(['a', 'b'], { a: { runMs: 10_000 }, b: { runMs: 10_000 } });
    // once every runner of both clusters was resumed, and the CLI follows them
    const onResumed = setInterval(() => {
      const resumed = [...clusters.a!.runners, ...clusters.b!.runners].map((x) => x.resumedAt[0]);
      if (resumed.length === 4 && resumed.every((t) => t !== undefined && Date.now() - t > 600)) ctrlC.abort();
    }, 50);
    const r = await run(['sample', '--context', 'a', '--context', 'b'], clusters, { signal: ctrlC.signal });
    clearInterval(onResumed);
    expect(r.code).toBe(EXIT.interrupted);
    for (const c of [clusters.a!, clusters.b!]) for (const x of c.runners) expect(x.stoppedAt).toHaveLength(1);
    expect(r.stdout).toContain('interrupted: every cluster:');
    expect(r.stdout).toMatch(/^start: 2 clusters resumed/m);
  }, 30_000);

  test('a runner failing in one cluster stops the others, and the run fails naming the cluster', async () => {
    const clusters = live(['a', 'b'], { a: { runMs: 10_000 }, b: { runMs: 10_000, crashAfterMs: 300 } });
    const r = await run(['sample', '--context', 'a', '--context', 'b'], clusters);
    expect(r.code).toBe(EXIT.runFailed);
    expect(r.stdout).toMatch(
      /runner-failed: cluster 'b' \(zone b\): runner Job failed: PodFailurePolicy \(in b\); runner 0 \(.*\): k6 exited 107 \(script exception\); the other clusters were stopped/,
    );
    // AND cluster a's runners were stopped by its stop Job; the judge saw the failure as a validity reason
    for (const x of clusters.a!.runners) expect(x.stoppedAt).toHaveLength(1);
    expect(clusters.b!.scripts.stop).toBeUndefined();
    expect(r.stdout).toContain(
      `inspect: kubectl --context a -n k6 get jobs,pods -l k6.platform/run-id=${RUN}; kubectl --context b -n k6 get jobs,pods -l k6.platform/run-id=${RUN}\n`,
    );
    expect(r.judged[0]?.validity?.runnerFailures).toEqual([expect.stringMatching(/^cluster 'b' \(zone b\): runner 0 .*k6 exited 107/)]);
  }, 30_000);

  test('a cluster that cannot start within the bound fails the run before any load, every cluster stopped', async () => {
    // GIVEN a start time already past the bound when the start Jobs run (lead -1.5 s, bound 1 s)
    const clusters = live(['a', 'b']);
    const r = await run(['sample', '--context', 'a', '--context', 'b'], clusters, { startLeadMs: -1500 });
    expect(r.code).toBe(EXIT.runFailed);
    // both start Jobs are late: the run names whichever failed first (on a loaded machine, either), once
    const failed = [...r.stdout.matchAll(/^starter-failed: cluster '(\w)' \(zone (\w)\) .*$/gm)];
    expect(failed.map((m) => m[1] === m[2])).toEqual([true]);
    expect(failed[0]![0]).toMatch(
      /could not start within 1000 ms of the start time: its start Job exited 1: could not resume at the start time: \d+ ms past START_AT \d+, more than MAX_LATE_MS 1000; nothing was resumed; every cluster was stopped$/,
    );
    for (const c of [clusters.a!, clusters.b!]) {
      for (const x of c.runners) expect(x.resumedAt).toEqual([]);
      expect(c.scripts.stop?.code).toBe(0);
    }
  }, 30_000);
});

describe('a cluster whose API fails', () => {
  test('an apply refused by the second cluster stops the first (and whatever of it the second holds), exit 1 naming it', async () => {
    const clusters = live(['a', 'b']);
    const b = clusters.b!;
    const refusing = { ...b, cluster: { ...b.cluster, apply: async () => Promise.reject(new Error('loadtest: applying Job/x failed: forbidden')) } };
    const r = await run(['sample', '--context', 'a', '--context', 'b'], { a: clusters.a!, b: refusing });
    expect(r.code).toBe(EXIT.error);
    expect(r.stderr).toContain(
      "error: cluster 'b' (zone b): loadtest: applying Job/x failed: forbidden; it and the clusters applied before were stopped",
    );
    for (const x of clusters.a!.runners) expect(x.resumedAt).toEqual([]);
    expect(clusters.a!.scripts.stop?.code).toBe(0);
    expect(clusters.a!.calls.at(-1)).toBe(`deleteJobs k6 k6.platform/run-id=${RUN}`);
  }, 30_000);

  test('setup once over several clusters is said at the start: setup() runs once in each cluster', async () => {
    const clusters = live(['a', 'b']);
    const refusing = { ...clusters.a!, cluster: { ...clusters.a!.cluster, apply: async () => Promise.reject(new Error('forbidden')) } };
    const r = await run(['once', '--context', 'a', '--context', 'b'], { a: refusing, b: clusters.b! });
    expect(r.stdout).toContain('note: setupOnce: setup() and teardown() run once in each cluster, not once for the run\n');
    expect(r.code).toBe(EXIT.error);
  });

  test('an API that fails while the run goes on: the other clusters are stopped, exit 1 naming the cluster', async () => {
    const clusters = live(['a', 'b'], { a: { runMs: 10_000 }, b: { runMs: 10_000 } });
    const b = clusters.b!;
    const failing = {
      ...b,
      cluster: {
        ...b.cluster,
        listPods: async (ns: string, sel: string) => {
          if (b.runners.some((x) => x.resumedAt.length > 0 && Date.now() - x.resumedAt[0]! > 300))
            throw new Error('loadtest: listing pods in k6 failed: connection reset');
          return b.cluster.listPods(ns, sel);
        },
      },
    };
    const r = await run(['sample', '--context', 'a', '--context', 'b'], { a: clusters.a!, b: failing });
    expect(r.code).toBe(EXIT.error);
    expect(r.stderr).toContain("error: cluster 'b' (zone b): loadtest: listing pods in k6 failed: connection reset; the other clusters were stopped");
    for (const x of clusters.a!.runners) expect(x.stoppedAt).toHaveLength(1);
  }, 30_000);
});

describe('bad input is refused before anything is applied to any cluster', () => {
  test.each([
    [
      ['--split', '3:x'],
      "error: option '--split <weights>' argument '3:x' is invalid. must be 2 to 16 integer weights from 1 to 1000 joined by \":\"",
    ],
    [['--split', '0:1'], "option '--split <weights>' argument '0:1' is invalid."],
    [
      ['--split', '1:1:1'],
      "error: option '--split <weights>' argument '1:1:1' has 3 weights for 2 --context options: give one weight per --context, such as 1:1",
    ],
    [['--zone', 'c=x'], "error: option '--zone <context=name>' argument 'c=x' names no --context (given: a, b)"],
    [['--zone', 'a=EU'], "error: option '--zone <context=name>' argument 'a=EU' is invalid."],
    [['--zone', 'a=b'], "error: contexts 'a' and 'b' both get zone 'b': give one of them another with --zone <context=name>"],
  ])('%j', async (flags, message) => {
    const clusters = live(['a', 'b']);
    const r = await run(['sample', '--context', 'a', '--context', 'b', ...flags], clusters);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain(message);
    expect(r.connected).toEqual([]);
  });

  test('each cluster once; --split without several contexts; too few runners; mode operator; the in-cluster Prometheus', async () => {
    const cases: [string[], string][] = [
      [['sample', '--context', 'a', '--context', 'a'], "error: option '--context <name>' names 'a' twice: each cluster once"],
      [
        ['sample', '--context', 'a', '--split', '1:1'],
        "error: options '--split <weights>' and '--zone <context=name>' split a run over clusters: give two or more --context options",
      ],
      [['single', '--context', 'a', '--context', 'b'], "test 'single' has parallelism 1, fewer runners than the 2 --context options"],
      [
        ['few', '--context', 'a', '--context', 'b', '--split', '7:1'],
        "test 'few' declares vus 4: the runners of --context b run 1/8 of the test each, fewer than one VU; set 'vus' to at least 8, or change --split or 'parallelism'",
      ],
      [
        ['operated', '--context', 'a', '--context', 'b'],
        'test \'operated\' has mode "operator": a run over 2 clusters (--context a --context b) needs mode "jobs"',
      ],
      [
        ['sample', '--env', 'local', '--context', 'a', '--context', 'b'],
        'a run over 2 clusters (--context a --context b) needs one metrics backend that the runners of every cluster write to and the verdict reads: the runners would write to http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write',
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv, live(['a', 'b']));
      expect([r.code, r.stderr]).toEqual([EXIT.usage, expect.stringContaining(message)]);
      expect(r.connected).toEqual([]);
    }
  });

  test('one --context runs as ever: that context, no zone, no start Job', async () => {
    const clusters = live(['only']);
    const r = await run(['sample', '--context', 'only'], clusters);
    expect(r.code).toBe(0);
    expect(r.connected).toEqual(['only']);
    expect(r.stdout).toContain(`run ${RUN}: test sample, 4 runner(s), namespace k6, live 'only'\n`);
    expect(tagsOf(k6Args(clusters.only!)).some((t) => t.startsWith('zone='))).toBe(false);
    expect(job(clusters.only!, 'start')).toBeUndefined();
    expect(clusters.only!.scripts.sidecar!.stdout).toContain('starter: resumed 4 runners');
  }, 30_000);
});
