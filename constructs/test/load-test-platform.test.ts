import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Testing } from 'cdk8s';
import { LoadTestPlatform, bundledDashboardsDir, type LoadTestPlatformProps } from '../src/platform/load-test-platform';
import { buildPlatform } from '../src/platform/platform';
import { parsePlatformConfig } from '../src/config/platform-config';

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
/** The error app.synth() throws for a platform built from props (validations are collected, not thrown at once). */
function synthError(props: Omit<LoadTestPlatformProps, 'scriptsDir'> & { scriptsDir?: string }): string {
  const app = Testing.app();
  new LoadTestPlatform(app, 'Platform', { scriptsDir, ...props });
  try {
    app.synth();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error('synth did not fail');
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
    const runners = objects.filter((o) => o.kind === 'Job' && o.spec?.completions !== undefined);
    expect(runners.map((o) => [o.metadata.labels?.['k6.platform/test'], o.metadata.namespace, o.spec?.completions])).toEqual([
      ['api', 'perf-runs', 3],
      ['web', 'perf-runs', 2],
    ]);
    expect(objects.every((o) => o.metadata.labels?.['k6.platform/environment'] === 'perf')).toBe(true);
    rmSync(dashboardsDir, { recursive: true, force: true });
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

  test('composes exactly the objects buildPlatform composes for the same config (one composition)', () => {
    // GIVEN
    const tests = [{ name: 'api', script: 'api.js', parallelism: 2 }];
    const platform = new LoadTestPlatform(Testing.app(), 'Platform', { scriptsDir, tests, dashboardsDir: bundledDashboardsDir()! });
    const app = new App();
    const charts = buildPlatform(app, {
      config: parsePlatformConfig({ tests }),
      scriptsDir,
      dashboardsDir: bundledDashboardsDir()!,
    });
    // WHEN
    const direct = [charts.namespaces, charts.monitoring, charts.loadTests].flatMap((c) => c.toJson() as Obj[]);
    // THEN
    const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    expect(objectsOf(platform).map(key)).toEqual(direct.map(key));
  });

  describe('conflicting props are collected and reported together at synth, each naming the prop', () => {
    test('monitoring off and no remote-write URL', () => {
      expect(synthError({ monitoring: { enabled: false } })).toBe(
        'Validation failed with the following errors:\n' +
          "  [Platform] LoadTestPlatform: 'monitoring.remoteWriteUrl' must be set when 'monitoring.enabled' is false: runners need an existing Prometheus to write to (its /api/v1/write URL)",
      );
    });

    test('a test whose script does not exist', () => {
      expect(synthError({ tests: [{ name: 'api', script: 'missing.js' }] })).toBe(
        'Validation failed with the following errors:\n' +
          `  [Platform] LoadTestPlatform: 'tests[0].script' "missing.js" does not exist in 'scriptsDir' ${scriptsDir} (looked for ${path.join(scriptsDir, 'missing.js')})`,
      );
    });

    test('two tests with the same name', () => {
      expect(
        synthError({
          tests: [
            { name: 'api', script: 'api.js' },
            { name: 'api', script: 'web.js' },
          ],
        }),
      ).toBe(
        'Validation failed with the following errors:\n' +
          `  [Platform] LoadTestPlatform: 'tests[1].name' "api" is already used by 'tests[0]'; test names must be unique`,
      );
    });

    test('one runner per node with a parallelism above the declared node count', () => {
      expect(synthError({ nodeCount: 2, tests: [{ name: 'api', script: 'api.js', parallelism: 5, onePerNode: true }] })).toBe(
        'Validation failed with the following errors:\n' +
          "  [Platform] LoadTestPlatform: 'tests[0].parallelism' is 5 with 'tests[0].onePerNode' (one runner per node), above 'nodeCount' 2: " +
          'lower the parallelism to at most 2, add nodes, or turn onePerNode off',
      );
    });

    test('a scripts directory that does not exist', () => {
      const missing = path.join(scriptsDir, 'nope');
      expect(synthError({ scriptsDir: missing, tests: [{ name: 'api', script: 'api.js' }] })).toBe(
        'Validation failed with the following errors:\n' +
          `  [Platform] LoadTestPlatform: 'scriptsDir' ${missing} is not a directory; point it at the folder holding the k6 scripts`,
      );
    });

    test('all at once: every conflict in one error, and manifests() refuses the same way', () => {
      // GIVEN
      const props: LoadTestPlatformProps = {
        scriptsDir,
        nodeCount: 1,
        monitoring: { enabled: false },
        tests: [
          { name: 'api', script: 'api.js', onePerNode: true },
          { name: 'api', script: 'web.js' },
          { name: 'web', script: 'gone.js' },
        ],
      };
      const platform = new LoadTestPlatform(Testing.app(), 'Platform', props);
      // WHEN / THEN
      const lines = synthError(props).split('\n');
      expect(lines).toHaveLength(5);
      expect(lines.slice(1).map((l) => /'[^']+'/.exec(l)?.[0])).toEqual([
        "'tests[1].name'",
        "'tests[2].script'",
        "'monitoring.remoteWriteUrl'",
        "'tests[0].parallelism'",
      ]);
      expect(() => platform.manifests()).toThrow(lines.join('\n'));
      // the conflicting tests were left out of the build; the others are there
      expect([...platform.scripts.keys()]).toEqual(['api']);
    });
  });

  describe('a single bad value throws at once, naming the prop as typed', () => {
    test('bad values are numbered as in props.tests, conflicts listed with them', () => {
      expect(
        () =>
          new LoadTestPlatform(Testing.app(), 'Platform', {
            scriptsDir,
            tests: [
              { name: 'api', script: 'missing.js' },
              { name: 'web', script: 'web.js', parallelism: 0 },
            ],
          }),
      ).toThrow(
        'Invalid LoadTestPlatform props (2 problems):\n' +
          "  - 'tests[1].parallelism' must be at least 1, got 0\n" +
          `  - 'tests[0].script' "missing.js" does not exist in 'scriptsDir' ${scriptsDir} (looked for ${path.join(scriptsDir, 'missing.js')})`,
      );
    });

    test('nodeCount below 1', () => {
      expect(() => new LoadTestPlatform(Testing.app(), 'Platform', { scriptsDir, nodeCount: 0 })).toThrow(
        "LoadTestPlatform: 'nodeCount' must be an integer of at least 1, got 0",
      );
    });
  });
});
