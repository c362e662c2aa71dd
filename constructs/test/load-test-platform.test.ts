import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Chart, Testing } from 'cdk8s';
import { LoadTestPlatform, bundledDashboardsDir, type LoadTestPlatformProps } from '../src/platform/load-test-platform';
import { buildPlatform } from '../src/platform/platform';
import { parsePlatformConfig, PlatformConfigError } from '../src/config/platform-config';
import { platformManifests } from '../src/platform/deploy';
import { LABELS } from '../src/contract/labels';

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}

let scriptsDir: string;
beforeAll(() => {
  scriptsDir = mkdtempSync(path.join(tmpdir(), 'k6-ltp-'));
  mkdirSync(path.join(scriptsDir, 'lib'));
  writeFileSync(path.join(scriptsDir, 'api.js'), "import { url } from './lib/url.js';\nexport default function () { return url; }\n");
  writeFileSync(path.join(scriptsDir, 'web.js'), 'export default function () {}\n');
  writeFileSync(path.join(scriptsDir, 'lib', 'url.js'), "export const url = 'https://test.k6.io/';\n");
});
afterAll(() => rmSync(scriptsDir, { recursive: true, force: true }));

const objectsOf = (platform: LoadTestPlatform) => platform.manifests().flatMap((m) => m.objects as unknown as Obj[]);
/** The error a platform built from props throws at construction. */
function propsError(props: Omit<LoadTestPlatformProps, 'scriptsDir'> & { scriptsDir?: string }): string {
  try {
    new LoadTestPlatform(Testing.app(), 'Platform', { scriptsDir, ...props });
  } catch (e) {
    expect(e).toBeInstanceOf(PlatformConfigError);
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error('construction did not fail');
}

describe('LoadTestPlatform', () => {
  test('defaults: monitoring with the platform values, the bundled dashboards, the official runner image, no tests', () => {
    // GIVEN
    const app = Testing.app();
    // WHEN
    const platform = new LoadTestPlatform(app, 'Platform', { scriptsDir });
    // THEN
    expect(platform.config.environment).toBe('dev');
    expect(platform.config.tests).toEqual([]);
    expect(platform.remoteWriteUrl).toBe('http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write');
    expect(platform.monitoringStack.values.prometheus.prometheusSpec.enableRemoteWriteReceiver).toBe(true);
    expect(platform.runnerImage.imageRef).toBe('grafana/k6:1.7.1');
    expect(platform.scripts.size).toBe(0);
    const manifests = platform.manifests();
    expect(manifests.map((m) => m.id)).toEqual(['namespaces', 'monitoring', 'loadtests']);
    const objects = manifests.flatMap((m) => m.objects as unknown as Obj[]);
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(['monitoring', 'k6']);
    const dashboards = objects.filter((o) => o.metadata.labels?.grafana_dashboard === '1');
    expect(dashboards.length).toBeGreaterThan(0);
    expect(dashboards.every((o) => o.kind === 'ConfigMap' && o.metadata.namespace === 'monitoring')).toBe(true);
    expect(bundledDashboardsDir()).toBe(path.resolve(__dirname, '..', '..', 'dashboards', 'generated'));
  });

  test('all options: environment, namespaces, external monitoring, runner image, tests, node count, dashboards directory', () => {
    // GIVEN
    const dashboardsDir = mkdtempSync(path.join(tmpdir(), 'k6-ltp-dash-'));
    writeFileSync(path.join(dashboardsDir, 'team-board.json'), '{"uid":"team-board","title":"Team"}');
    const app = Testing.app();
    // WHEN
    const platform = new LoadTestPlatform(app, 'Platform', {
      scriptsDir,
      environment: 'perf',
      namespaces: { monitoring: 'observability', loadTests: 'perf-runs' },
      monitoring: { enabled: false, remoteWriteUrl: 'https://prom.example.com/api/v1/write' },
      runner: { image: 'registry.example.com/k6:1.7.1', remoteWriteAuth: { type: 'bearer', token: { name: 'rw', key: 'token' } } },
      nodeCount: 3,
      dashboardsDir,
      tests: [
        { name: 'api', script: 'api.js', parallelism: 3, onePerNode: true, thresholds: { http_req_failed: ['rate<0.01'] } },
        { name: 'web', script: 'web.js' },
      ],
    });
    // THEN
    expect(platform.config.environment).toBe('perf');
    expect(platform.remoteWriteUrl).toBe('https://prom.example.com/api/v1/write');
    expect(platform.runnerImage.imageRef).toBe('registry.example.com/k6:1.7.1');
    expect([...platform.scripts.keys()]).toEqual(['api', 'web']);
    expect(platform.scripts.get('api')?.files.map((f) => f.path)).toEqual(['api.js', 'lib/url.js']);
    const objects = objectsOf(platform);
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(['perf-runs']);
    expect(objects.filter((o) => o.metadata.labels?.grafana_dashboard === '1').map((o) => [o.metadata.namespace, Object.keys(o.data ?? {})])).toEqual(
      [['observability', ['team-board.json']]],
    );
    // the runs are in the loadtests chart, not in manifests()
    const runners = (platform.charts.loadTests.toJson() as Obj[]).filter((o) => o.kind === 'Job' && o.spec?.completions !== undefined);
    expect(objects.filter((o) => o.kind === 'Job')).toEqual([]);
    expect(runners.map((o) => [o.metadata.labels?.['k6.platform/test'], o.metadata.namespace, o.spec?.completions])).toEqual([
      ['api', 'perf-runs', 3],
      ['web', 'perf-runs', 2],
    ]);
    expect(objects.every((o) => o.metadata.labels?.['k6.platform/environment'] === 'perf')).toBe(true);
    rmSync(dashboardsDir, { recursive: true, force: true });
  });

  test("the cluster's network facts reach the runners' policies, and a bad one is named as typed", () => {
    // GIVEN DNS pods in a namespace of their own
    const platform = new LoadTestPlatform(Testing.app(), 'Platform', {
      scriptsDir,
      network: { dns: { namespace: 'custom-dns', podLabels: { app: 'coredns' } } },
      tests: [{ name: 'api', script: 'api.js' }],
    });
    // THEN the runners' egress to DNS selects those pods in that namespace
    const policies = (platform.charts.loadTests.toJson() as Obj[]).filter((o) => o.kind === 'NetworkPolicy');
    const dnsPeers = policies.flatMap(
      (p) =>
        JSON.stringify(p).match(
          /\{"namespaceSelector":\{"matchLabels":\{"kubernetes.io\/metadata.name":"custom-dns"\}\},"podSelector":\{"matchLabels":\{"app":"coredns"\}\}\}/g,
        ) ?? [],
    );
    expect(dnsPeers.length).toBeGreaterThan(0);
    expect(platform.config.network.dns.namespace).toBe('custom-dns');
    // and a bad value is one problem naming the prop
    expect(() => new LoadTestPlatform(Testing.app(), 'Platform', { scriptsDir, network: { dns: { namespace: 'Bad_NS' } } })).toThrow(
      /'network\.dns\.namespace' must be/,
    );
  });

  test("two tests resolving to the same run id are refused (an explicit runId equal to another test's default)", () => {
    // GIVEN the default run id of test api
    const first = buildPlatform(new App(), { config: parsePlatformConfig({ tests: [{ name: 'api', script: 'api.js' }] }), scriptsDir });
    const apiRunId = first.runs.get('api')!.runId;
    // WHEN web takes it explicitly
    const run = () =>
      buildPlatform(new App(), {
        config: parsePlatformConfig({
          tests: [
            { name: 'api', script: 'api.js' },
            { name: 'web', script: 'web.js', runId: apiRunId },
          ],
        }),
        scriptsDir,
      });
    // THEN
    expect(run).toThrow(`LoadTest: 'tests[1]' resolves to run id "${apiRunId}", already the run id of 'tests[0]': set a different 'runId'`);
  });

  test('manifests(): the same charts and objects as platformManifests of buildPlatform for the same config (one composition)', () => {
    // GIVEN
    const tests = [{ name: 'api', script: 'api.js', parallelism: 2 }];
    const platform = new LoadTestPlatform(Testing.app(), 'Platform', { scriptsDir, tests, dashboardsDir: bundledDashboardsDir()! });
    const app = new App();
    const charts = buildPlatform(app, { config: parsePlatformConfig({ tests }), scriptsDir, dashboardsDir: bundledDashboardsDir()! });
    // WHEN
    const direct = platformManifests(app, charts);
    const manifests = platform.manifests();
    // THEN
    const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    expect(manifests.map((m) => m.id)).toEqual(direct.map((m) => m.id));
    expect(objectsOf(platform).map(key)).toEqual(direct.flatMap((m) => m.objects as unknown as Obj[]).map(key));
  });

  test('manifests() holds no object of a run (deploying it never starts a load test); the run is in charts.runs', () => {
    // GIVEN
    const platform = new LoadTestPlatform(Testing.app(), 'Platform', {
      scriptsDir,
      tests: [
        { name: 'api', script: 'api.js' },
        { name: 'web', script: 'web.js', mode: 'operator' },
      ],
    });
    // WHEN
    const objects = objectsOf(platform);
    const run = platform.charts.runs.get('api')!;
    const runObjects = (platform.charts.loadTests.toJson() as Obj[]).filter((o) => o.metadata.labels?.[LABELS.runId] === run.runId);
    // THEN
    expect(objects.filter((o) => o.metadata.labels?.[LABELS.runId] !== undefined)).toEqual([]);
    expect(objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['app.kubernetes.io/component'] === 'test-script')).toHaveLength(2);
    expect(runObjects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Job', 'NetworkPolicy', 'NetworkPolicy', 'Service', 'ServiceAccount'].sort());
  });

  test('manifests() of a platform beside other charts: only its own, numbered as cdk8s synth numbers the files', () => {
    // GIVEN a team chart before the platform
    const app = Testing.app();
    new Chart(app, 'team');
    const platform = new LoadTestPlatform(app, 'Platform', { scriptsDir });
    // WHEN
    const manifests = platform.manifests();
    app.synth();
    // THEN
    expect(manifests.map((m) => m.id)).toEqual(['namespaces', 'monitoring', 'loadtests']);
    expect(readdirSync(app.outdir).sort()).toEqual(['0000-team.k8s.yaml', ...manifests.map((m) => m.fileName)].sort());
  });

  describe('bad props throw ONE PlatformConfigError at construction, every problem naming the prop as typed', () => {
    test('monitoring off and no remote-write URL (the schema rule)', () => {
      expect(propsError({ monitoring: { enabled: false } })).toBe(
        'Invalid LoadTestPlatform props (1 problem):\n' +
          "  - 'monitoring.remoteWriteUrl' must be set when monitoring.enabled is false (runners need a Prometheus to write to), got nothing",
      );
    });

    test('a test whose script does not exist (the message a stack file gets from buildPlatform)', () => {
      const expected = `'tests[0].script' "missing.js" does not exist in 'scriptsDir' ${scriptsDir} (looked for ${path.join(scriptsDir, 'missing.js')})`;
      expect(propsError({ tests: [{ name: 'api', script: 'missing.js' }] })).toBe(`Invalid LoadTestPlatform props (1 problem):\n  - ${expected}`);
      expect(() => buildPlatform(new App(), { config: parsePlatformConfig({ tests: [{ name: 'api', script: 'missing.js' }] }), scriptsDir })).toThrow(
        `Invalid test scripts of environment "dev" (1 problem):\n  - ${expected}`,
      );
    });

    test('a script outside the scripts directory', () => {
      expect(propsError({ tests: [{ name: 'api', script: '../api.js' }] })).toBe(
        'Invalid LoadTestPlatform props (1 problem):\n' +
          `  - 'tests[0].script' "../api.js" is outside 'scriptsDir' ${scriptsDir}; scripts must live under it`,
      );
    });

    test('two tests with the same name (the schema rule)', () => {
      expect(
        propsError({
          tests: [
            { name: 'api', script: 'api.js' },
            { name: 'api', script: 'web.js' },
          ],
        }),
      ).toBe('Invalid LoadTestPlatform props (1 problem):\n' + `  - 'tests[1].name' must be unique, already used by 'tests[0]', got "api"`);
    });

    test('one runner per node with a parallelism above the declared node count', () => {
      expect(propsError({ nodeCount: 2, tests: [{ name: 'api', script: 'api.js', parallelism: 5, onePerNode: true }] })).toBe(
        'Invalid LoadTestPlatform props (1 problem):\n' +
          "  - 'tests[0].parallelism' must be at most 'nodeCount' (2) with 'tests[0].onePerNode' (one runner per node), got 5: " +
          'lower the parallelism, add nodes, or turn onePerNode off',
      );
    });

    test('a parallelism equal to the node count, or onePerNode off, is fine', () => {
      const platform = new LoadTestPlatform(Testing.app(), 'Platform', {
        scriptsDir,
        nodeCount: 2,
        tests: [
          { name: 'api', script: 'api.js', parallelism: 2, onePerNode: true },
          { name: 'web', script: 'web.js', parallelism: 5 },
        ],
      });
      expect([...platform.charts.runs.keys()]).toEqual(['api', 'web']);
    });

    test('a scripts directory that does not exist (its scripts are not looked for)', () => {
      const missing = path.join(scriptsDir, 'nope');
      expect(propsError({ scriptsDir: missing, tests: [{ name: 'api', script: 'api.js' }] })).toBe(
        'Invalid LoadTestPlatform props (1 problem):\n' +
          `  - 'scriptsDir' ${missing} is not a directory; point it at the folder holding the k6 scripts`,
      );
    });

    test('a dashboards directory that does not exist', () => {
      const missing = path.join(scriptsDir, 'no-dashboards');
      expect(propsError({ dashboardsDir: missing })).toBe(
        'Invalid LoadTestPlatform props (1 problem):\n' +
          `  - 'dashboardsDir' ${missing} is not a directory; point it at the folder of Grafana dashboard JSON files`,
      );
    });

    test('all at once: schema, filesystem and nodeCount problems in one error, tests numbered as in props.tests', () => {
      expect(
        propsError({
          nodeCount: 1,
          monitoring: { enabled: false },
          tests: [
            { name: 'api', script: 'api.js', onePerNode: true },
            { name: 'api', script: 'web.js' },
            { name: 'web', script: 'gone.js' },
          ],
        }),
      ).toBe(
        'Invalid LoadTestPlatform props (4 problems):\n' +
          `  - 'tests[1].name' must be unique, already used by 'tests[0]', got "api"\n` +
          "  - 'monitoring.remoteWriteUrl' must be set when monitoring.enabled is false (runners need a Prometheus to write to), got nothing\n" +
          `  - 'tests[2].script' "gone.js" does not exist in 'scriptsDir' ${scriptsDir} (looked for ${path.join(scriptsDir, 'gone.js')})\n` +
          "  - 'tests[0].parallelism' must be at most 'nodeCount' (1) with 'tests[0].onePerNode' (one runner per node), got 2: " +
          'lower the parallelism, add nodes, or turn onePerNode off',
      );
    });

    test('bad values are numbered as in props.tests, listed with the filesystem problems', () => {
      expect(
        propsError({
          tests: [
            { name: 'api', script: 'missing.js' },
            { name: 'web', script: 'web.js', parallelism: 0 },
          ],
        }),
      ).toBe(
        'Invalid LoadTestPlatform props (2 problems):\n' +
          "  - 'tests[1].parallelism' must be at least 1, got 0\n" +
          `  - 'tests[0].script' "missing.js" does not exist in 'scriptsDir' ${scriptsDir} (looked for ${path.join(scriptsDir, 'missing.js')})`,
      );
    });

    test('nodeCount below 1 or not an integer, with the other problems', () => {
      expect(propsError({ nodeCount: 0 })).toBe(
        "Invalid LoadTestPlatform props (1 problem):\n  - 'nodeCount' must be an integer of at least 1, got 0",
      );
      expect(propsError({ nodeCount: 1.5, environment: 'Prod' })).toBe(
        'Invalid LoadTestPlatform props (2 problems):\n' +
          `  - 'environment' must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric, got "Prod"\n` +
          "  - 'nodeCount' must be an integer of at least 1, got 1.5",
      );
    });

    test('tests that are not a list (from JavaScript): the schema says so, nothing else breaks', () => {
      expect(propsError({ tests: 'api.js' as unknown as LoadTestPlatformProps['tests'] })).toBe(
        'Invalid LoadTestPlatform props (1 problem):\n' + `  - 'tests' must be an array, got "api.js"`,
      );
    });

    test('with a bad value elsewhere, onePerNode tests that parse on their own are still checked against nodeCount', () => {
      expect(propsError({ nodeCount: 1, environment: 'Prod', tests: [{ name: 'api', script: 'api.js', onePerNode: true, parallelism: 3 }] })).toBe(
        'Invalid LoadTestPlatform props (2 problems):\n' +
          `  - 'environment' must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric, got "Prod"\n` +
          "  - 'tests[0].parallelism' must be at most 'nodeCount' (1) with 'tests[0].onePerNode' (one runner per node), got 3: " +
          'lower the parallelism, add nodes, or turn onePerNode off',
      );
    });
  });
});
