/**
 * The example consumer programs in examples/ synthesize (they are type-checked by `npm run lint`, examples/tsconfig.json):
 * a team's cdk8s app with its own test, and a Pulumi program deploying LoadTestPlatform into an existing cluster.
 * `@k6-platform/constructs` is mapped to the library sources (jest.config.js); test/package.test.ts covers the package.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as YAML from 'yaml';
import { LABELS } from '@k6-platform/constructs';
import { buildTeamApp } from '../examples/team-cdk8s-app/app';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}
interface PodSpec {
  nodeSelector?: Record<string, string>;
  affinity?: { podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string }[] } };
  containers: { name: string; args?: string[]; env?: { name: string; value?: string }[] }[];
}
const podSpecOf = (job: Obj) => (job.spec as { template: { spec: PodSpec } }).template.spec;

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('examples/team-cdk8s-app', () => {
  test('synthesizes the team test: its script, two runners on two nodes of the pool, no per-runner thresholds', () => {
    // GIVEN
    const outdir = mkdtempSync(path.join(tmpdir(), 'k6-team-app-'));
    temps.push(outdir);

    // WHEN
    buildTeamApp(outdir).app.synth();

    // THEN
    const objects = readdirSync(outdir)
      .filter((f) => f.endsWith('.k8s.yaml'))
      .flatMap((f) => YAML.parseAllDocuments(readFileSync(path.join(outdir, f), 'utf8')).map((d) => d.toJS() as Obj | null))
      .filter((o): o is Obj => o !== null);
    const inTeamNs = objects.filter((o) => o.metadata.namespace === 'checkout-perf');
    const scripts = inTeamNs.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['app.kubernetes.io/component'] === 'test-script');
    expect(Object.keys(scripts?.data ?? {})).toEqual(['checkout.js']);
    expect(scripts?.data?.['checkout.js']).toBe(
      readFileSync(path.join(__dirname, '..', 'examples', 'team-cdk8s-app', 'scripts', 'checkout.js'), 'utf8'),
    );

    const runners = inTeamNs.filter(
      (o) => o.kind === 'Job' && o.metadata.labels?.['k6.platform/test'] === 'checkout-api' && o.spec?.completions !== undefined,
    );
    expect(runners).toHaveLength(1);
    const job = runners[0]!;
    expect([job.spec?.completions, job.spec?.parallelism]).toEqual([2, 2]);
    const pod = podSpecOf(job);
    expect(pod.nodeSelector).toEqual({ pool: 'loadgen' });
    expect(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.map((t) => t.topologyKey)).toEqual([
      'kubernetes.io/hostname',
    ]);

    // no runner judges the team's thresholds on its own segment (the verdict judges them over all runners)
    expect(pod.containers?.[0]?.args).toContain('--no-thresholds');
    const runConfig = inTeamNs.find((o) => o.kind === 'ConfigMap' && Object.keys(o.data ?? {}).includes('runner-0.json'));
    for (const key of ['runner-0.json', 'runner-1.json']) {
      expect(JSON.parse(runConfig?.data?.[key] ?? '{}') as { thresholds?: unknown }).not.toHaveProperty('thresholds');
    }
    expect(Object.keys(runConfig?.data ?? {}).filter((k) => k.startsWith('runner-'))).toHaveLength(2);
  });
});

describe('examples/pulumi-existing-cluster', () => {
  interface Registered {
    readonly type: string;
    readonly name: string;
    readonly inputs: { objs?: Obj[] };
  }
  const registered: Registered[] = [];
  const remoteWriteUrl = 'http://prometheus-operated.observability:9090/api/v1/write';

  beforeAll(async () => {
    // GIVEN: the stack config a user sets, and mocks recording every resource
    pulumi.runtime.setAllConfig({ 'loadtests:remoteWriteUrl': remoteWriteUrl, 'loadtests:monitoringNamespace': 'observability' });
    await pulumi.runtime.setMocks(
      {
        newResource: (args: pulumi.runtime.MockResourceArgs) => {
          registered.push({ type: args.type, name: args.name, inputs: args.inputs as Registered['inputs'] });
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
      },
      'loadtests',
      'dev',
    );
    // WHEN: the program runs
    // The program is loaded after setMocks, with a typed require (STYLE.md: `await import()` needs VM modules under jest).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const stack = require('../examples/pulumi-existing-cluster/stack') as typeof import('../examples/pulumi-existing-cluster/stack');
    await Promise.all(stack.configGroups.map((g) => new Promise((resolve) => g.urn.apply(resolve))));
  });

  const group = (name: string) => registered.find((r) => r.type === 'kubernetes:yaml/v2:ConfigGroup' && r.name === name);

  test('one ConfigGroup per non-empty chart; no kube-prometheus-stack release', () => {
    // THEN
    expect(registered.filter((r) => r.type === 'kubernetes:yaml/v2:ConfigGroup').map((r) => r.name)).toEqual([
      'dev-namespaces',
      'dev-monitoring',
      'dev-loadtests',
    ]);
    expect(registered.filter((r) => r.type.startsWith('kubernetes:helm'))).toEqual([]);
  });

  test('only the load-test namespace is created: the monitoring namespace belongs to the existing stack', () => {
    const objs = group('dev-namespaces')?.inputs.objs ?? [];
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/loadtests']);
  });

  test('the dashboards go to the existing monitoring namespace, labelled for the Grafana sidecar', () => {
    const objs = group('dev-monitoring')?.inputs.objs ?? [];
    expect(objs.length).toBeGreaterThan(0);
    for (const o of objs) {
      expect([o.kind, o.metadata.namespace, o.metadata.labels?.grafana_dashboard]).toEqual(['ConfigMap', 'observability', '1']);
    }
  });

  test('no ConfigGroup holds an object of a run: deploying never starts a load test', () => {
    const objs = registered.filter((r) => r.type === 'kubernetes:yaml/v2:ConfigGroup').flatMap((r) => r.inputs.objs ?? []);
    expect(objs.length).toBeGreaterThan(0);
    expect(objs.filter((o) => o.metadata.labels?.[LABELS.runId] !== undefined)).toEqual([]);
    expect(objs.filter((o) => o.kind === 'Job')).toEqual([]);
  });

  test('the smoke run is the stack output instead, and its runners write to the existing Prometheus; the script is deployed', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const stack = require('../examples/pulumi-existing-cluster/stack') as typeof import('../examples/pulumi-existing-cluster/stack');
    const run = stack.runObjects['smoke'] as unknown as Obj[];
    expect(Object.keys(stack.runObjects)).toEqual(['smoke']);
    expect(run.every((o) => o.metadata.labels?.[LABELS.runId] === stack.platform.charts.runs.get('smoke')?.runId)).toBe(true);
    const runner = run.find((o) => o.kind === 'Job' && o.metadata.labels?.['k6.platform/test'] === 'smoke' && o.spec?.completions !== undefined);
    expect(runner?.metadata.namespace).toBe('loadtests');
    const env = podSpecOf(runner!).containers.flatMap((c) => c.env ?? []);
    expect(env.filter((e) => e.name === 'K6_PROMETHEUS_RW_SERVER_URL').map((e) => e.value)).toEqual([remoteWriteUrl]);
    expect(
      (group('dev-loadtests')?.inputs.objs ?? [])
        .filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['app.kubernetes.io/component'] === 'test-script')
        .map((o) => Object.keys(o.data ?? {})),
    ).toEqual([['smoke.js']]);
  });
});
