/**
 * One cluster's part of a run over several clusters (LoadTest `shard`): its runners' sub-range segments with the
 * sequence all clusters share, the `zone` tag, a starter that only gates, and the start Job that resumes at the
 * shared start time. Every object stays restricted and least-privilege.
 */
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { LoadTest, type LoadTestProps, type RunShard } from '../src/load-test/load-test';
import { testSchema } from '../src/config/platform-config';
import { TestScripts } from '../src/load-test/test-scripts';
import { executionSplit } from '../src/k6/execution-segments';
import { restrictedProfileViolations } from '../../test/support/pod-security';
import { admitted } from '../../test/support/network-policy';
import { validateManifests, type Manifest } from '../../test/support/schemas';

const SCRIPTS_DIR = path.resolve(__dirname, '..', '..', 'scripts');
const RW_URL = 'https://metrics.example.com/api/v1/write';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SPLIT = executionSplit([3, 1], [3, 1]);
const SHARD_A: RunShard = { segments: SPLIT.clusters[0]!.segments.map((s) => s.segment), sequence: SPLIT.sequence, zone: 'eu-west' };
const SHARD_B: RunShard = { segments: SPLIT.clusters[1]!.segments.map((s) => s.segment), sequence: SPLIT.sequence, zone: 'us-east' };

function synth(test: Record<string, unknown>, extra: Partial<LoadTestProps> = {}): { objs: Obj[]; lt: LoadTest } {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'k6' });
  const scripts = new TestScripts(chart, 'Scripts', { testName: 'sample', entry: 'sample.js', scriptsDir: SCRIPTS_DIR });
  const lt = new LoadTest(chart, 'Run', {
    test: testSchema.parse({ name: 'sample', script: 'sample.js', runId: 'sample-run', parallelism: 4, ...test }),
    scripts,
    remoteWriteUrl: RW_URL,
    ...extra,
  });
  return { objs: Testing.synth(chart) as Obj[], lt };
}

const runnerJob = (objs: Obj[]) => objs.find((o) => o.kind === 'Job' && o.metadata.name === 'sample-run-runner')!;
const container = (objs: Obj[], name: string) => (runnerJob(objs).spec.template.spec.containers as Obj[]).find((c) => c.name === name)!;
const envOf = (c: Obj): Record<string, unknown> => Object.fromEntries(((c.env ?? []) as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));
const flag = (args: string[], name: string) => args.filter((a) => a.startsWith(`${name}=`)).map((a) => a.slice(name.length + 1));
const tags = (args: string[]) => args.flatMap((a, i) => (args[i - 1] === '--tag' ? [a] : []));

describe("a LoadTest with a shard runs one cluster's part of the run", () => {
  test('its runners: the sub-range segments, the shared sequence, the zone tag and a zone-prefixed instance_id', () => {
    // GIVEN cluster a of --split 3:1 (3 runners of 4)
    const { objs } = synth({}, { shard: SHARD_A });
    // THEN the Job runs this cluster's 3 runners
    expect(runnerJob(objs).spec).toMatchObject({ completions: 3, parallelism: 3 });
    // AND each runner's config file holds its sub-range segment
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sample-run-config')!;
    expect([0, 1, 2].map((i) => JSON.parse(cm.data[`runner-${i}.json`] as string).executionSegment)).toEqual(['0:1/4', '1/4:1/2', '1/2:3/4']);
    expect(cm.data['runner-3.json']).toBeUndefined();
    // AND every runner gets the sequence of ALL runners of ALL clusters, and the zone
    const args = container(objs, 'k6').args as string[];
    expect(flag(args, '--execution-segment-sequence')).toEqual(['0,1/4,1/2,3/4,1']);
    expect(tags(args)).toEqual(expect.arrayContaining(['zone=eu-west', 'instance_id=eu-west-$(K6_PLATFORM_RUNNER_INDEX)']));
    expect(tags(args).filter((t) => t.startsWith('instance_id='))).toHaveLength(1);
    // AND the starter beside runner 0 only gates
    expect(envOf(container(objs, 'starter')).START_GATE).toBe('external');
    // AND cluster b's one runner takes the rest with the same sequence
    const b = synth({}, { shard: SHARD_B }).objs;
    expect(runnerJob(b).spec.completions).toBe(1);
    expect(JSON.parse(b.find((o) => o.metadata.name === 'sample-run-config')!.data['runner-0.json'] as string).executionSegment).toBe('3/4:1');
    expect(flag(container(b, 'k6').args as string[], '--execution-segment-sequence')).toEqual(['0,1/4,1/2,3/4,1']);
  });

  test('without a shard nothing changes: no zone tag, no gate, no start policy', () => {
    const { objs, lt } = synth({});
    const args = container(objs, 'k6').args as string[];
    expect(tags(args).some((t) => t.startsWith('zone='))).toBe(false);
    expect(tags(args)).toContain('instance_id=$(K6_PLATFORM_RUNNER_INDEX)');
    expect(flag(args, '--execution-segment-sequence')).toEqual(['0,1/4,1/2,3/4,1']);
    expect(envOf(container(objs, 'starter')).START_GATE).toBeUndefined();
    expect(objs.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'sample-run-start')).toBe(false);
    expect(() => lt.startJobManifest(Date.now(), 2000)).toThrow(
      "LoadTest: test 'sample' has no start Job (only a run over several clusters has one)",
    );
  });

  test('the start Job resumes the runners at START_AT, restricted, a REST client of the runners only', () => {
    // GIVEN / WHEN
    const { objs, lt } = synth({}, { shard: SHARD_A });
    const job = lt.startJobManifest(1_800_000_000_123, 2000) as Obj;
    // THEN it runs the starter with --resume against this cluster's runners, with the start time and the bound
    const c = job.spec.template.spec.containers[0] as Obj;
    expect(job.metadata).toMatchObject({ name: 'sample-run-start', namespace: 'k6' });
    expect(c.args).toEqual(['--resume', ...[0, 1, 2].map((i) => `http://sample-run-runner-${i}.sample-run.k6.svc:6565`)]);
    expect(envOf(c)).toEqual({ START_AT: '1800000000123', MAX_LATE_MS: '2000', START_TIMEOUT_SECONDS: '30' });
    // AND every pod (the start Job's too) meets the restricted profile, every object its schema
    const all = [...objs, job];
    expect(restrictedProfileViolations(all)).toEqual([]);
    expect(validateManifests(all as Manifest[])).toEqual([]);
    // AND the start pod reaches the runners' API and DNS only; nothing reaches it
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
    const start = { namespace: 'k6', labels: job.spec.template.metadata.labels as Record<string, string> };
    const runner = { namespace: 'k6', labels: runnerJob(objs).spec.template.metadata.labels as Record<string, string> };
    expect(admitted(policies, start, runner, 6565)).toBe(true);
    expect(admitted(policies, start, { ip: '203.0.113.7' }, 443)).toBe(false);
    expect(admitted(policies, runner, start, 6565)).toBe(false);
    expect(admitted(policies, { namespace: 'k6', labels: { app: 'other' } }, runner, 6565)).toBe(false);
    // AND bad start times are refused
    expect(() => lt.startJobManifest(0, 2000)).toThrow('LoadTest: the start time must be a positive unix time in ms, got 0');
  });

  test('a shard the run cannot honour is refused, naming the field', () => {
    expect(() => synth({ mode: 'operator' }, { shard: SHARD_A })).toThrow(
      'LoadTest: test \'sample\': \'shard\' (a run over several clusters) needs mode "jobs", got "operator"',
    );
    expect(() => synth({ schedule: '0 2 * * *' }, { shard: SHARD_A })).toThrow('cannot be scheduled (\'schedule\' is "0 2 * * *")');
    expect(() => synth({}, { shard: { ...SHARD_A, zone: 'EU West' } })).toThrow(
      '\'shard.zone\' must be 1 to 32 lower-case letters, digits and "-", starting and ending alphanumeric, got "EU West"',
    );
    expect(() => synth({}, { shard: { ...SHARD_A, sequence: '0,1/2,1' } })).toThrow(
      '\'shard.segments\' entry "0:1/4" is not a part of \'shard.sequence\' "0,1/2,1"',
    );
  });
});
