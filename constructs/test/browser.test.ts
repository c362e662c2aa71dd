import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { parsePlatformConfig } from '../src/config/platform-config';
import { buildPlatform } from '../src/platform/platform';
import { restrictedProfileViolations } from '../../test/support/pod-security';
import { validateManifests, type Manifest } from '../../test/support/schemas';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DIGEST = `sha256:${'a'.repeat(64)}`;
const BROWSER_DIGEST = `sha256:${'b'.repeat(64)}`;

// A browser scenario and an HTTP scenario in one script, as k6's hybrid-performance guide writes them: the browser
// scenario declares `options.browser.type` (k6 v1.7.1 refuses to launch a browser in a scenario without it).
const MIXED = `import http from 'k6/http';
import { browser } from 'k6/browser';
export const options = {
  scenarios: {
    api: { executor: 'constant-vus', vus: 20, duration: '1m', exec: 'api' },
    ui: { executor: 'shared-iterations', vus: 1, iterations: 5, exec: 'ui', options: { browser: { type: 'chromium' } } },
  },
  thresholds: { 'http_req_duration{scenario:api}': ['p(95)<500'], browser_web_vital_lcp: ['p(75)<2500'] },
};
export function api() { http.get('https://shop.example.com/api/items'); }
export async function ui() { const page = await browser.newPage(); try { await page.goto('https://shop.example.com/'); } finally { await page.close(); } }
`;

describe('browser tests: image, resources, security (buildPlatform)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'k6-browser-'));
    const files: Record<string, string> = {
      'api.js': "import http from 'k6/http';\nexport default function () { http.get('https://shop.example.com/'); }\n",
      // the browser import sits in a helper: the whole bundle decides
      'ui.js':
        "import { visit } from './lib/visit.js';\nexport const options = { scenarios: { ui: { executor: 'shared-iterations', options: { browser: { type: 'chromium' } } } } };\nexport default visit;\n",
      'lib/visit.js':
        "import { browser } from 'k6/browser';\nexport async function visit() { const page = await browser.newPage(); await page.close(); }\n",
      'mixed.js': MIXED,
    };
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const TESTS = [
    { name: 'api', script: 'api.js' },
    { name: 'ui', script: 'ui.js' },
  ];
  const platform = (runner: Record<string, unknown> = {}, tests: Record<string, unknown>[] = TESTS) =>
    buildPlatform(Testing.app(), { config: parsePlatformConfig({ tests, runner }), scriptsDir: dir });
  const objsOf = (charts: ReturnType<typeof platform>): Obj[] => Testing.synth(charts.loadTests) as Obj[];
  const runnerPod = (objs: Obj[], runId: string): Obj =>
    objs.find((o) => o.kind === 'Job' && o.metadata.name === `${runId}-runner`)!.spec.template.spec;
  const k6Of = (pod: Obj): Obj => pod.containers.find((c: Obj) => c.name === 'k6');

  test('a test importing k6/browser runs the pinned image with Chromium; the others the plain image, in both run forms', () => {
    // GIVEN an HTTP test, a browser test in mode "jobs" and the same browser test in mode "operator"
    const charts = platform({}, [...TESTS, { name: 'ui-op', script: 'ui.js', mode: 'operator' }]);
    const objs = objsOf(charts);
    // THEN each LoadTest and its runner container carry the image chosen from the bundle's imports
    expect(charts.runs.get('api')!.image).toBe('grafana/k6:1.7.1');
    expect(charts.runs.get('ui')!.image).toBe('grafana/k6:1.7.1-with-browser');
    expect(k6Of(runnerPod(objs, charts.runs.get('api')!.runId)).image).toBe('grafana/k6:1.7.1');
    expect(k6Of(runnerPod(objs, charts.runs.get('ui')!.runId)).image).toBe('grafana/k6:1.7.1-with-browser');
    const testRun = objs.find((o) => o.kind === 'TestRun')!;
    expect(testRun.spec.runner.image).toBe('grafana/k6:1.7.1-with-browser');
    expect(testRun.spec.initializer.image).toBe('grafana/k6:1.7.1-with-browser');
    // AND nothing to note
    expect(charts.warnings).toEqual([]);
  });

  test('runner.k6Version and runner.imageDigests.k6WithBrowser pin the browser image; a digest on the plain image only is a note', () => {
    const older = platform({ k6Version: '1.6.0', imageDigests: { k6WithBrowser: BROWSER_DIGEST } });
    expect(older.runs.get('ui')!.image).toBe(`grafana/k6:1.6.0-with-browser@${BROWSER_DIGEST}`);
    expect(older.runs.get('api')!.image).toBe('grafana/k6:1.6.0');
    const pinned = platform({ imageDigests: { k6: DIGEST, k6WithBrowser: BROWSER_DIGEST } });
    expect(pinned.runs.get('ui')!.image).toBe(`grafana/k6:1.7.1-with-browser@${BROWSER_DIGEST}`);
    expect(pinned.runs.get('api')!.image).toBe(`grafana/k6:1.7.1@${DIGEST}`);
    expect(pinned.warnings).toEqual([]);
    // the plain image pinned, the browser image by tag: the synth says which field pins it
    // an older k6 pinned by digest: the digest pins the official image at that version, no conflict with k6Version
    const olderPinned = platform({ k6Version: '1.6.0', imageDigests: { k6: DIGEST, k6WithBrowser: BROWSER_DIGEST } });
    expect(olderPinned.runs.get('api')!.image).toBe(`grafana/k6:1.6.0@${DIGEST}`);
    expect(olderPinned.runs.get('ui')!.image).toBe(`grafana/k6:1.6.0-with-browser@${BROWSER_DIGEST}`);
    const half = platform({ imageDigests: { k6: DIGEST } });
    expect(half.runs.get('ui')!.image).toBe('grafana/k6:1.7.1-with-browser');
    expect(half.warnings).toEqual([
      "LoadTestPlatform: 'tests[1].script' ui.js imports k6/browser (lib/visit.js line 1): test 'ui' runs grafana/k6:1.7.1-with-browser by tag only " +
        "while 'runner.imageDigests.k6' pins the plain image; pin it with 'runner.imageDigests.k6WithBrowser' (crane digest grafana/k6:1.7.1-with-browser)",
    ]);
  });

  test('an explicit runner.image without a browser fails for a browser test, naming the test, the image and the fix', () => {
    expect(() => platform({ image: 'grafana/k6:1.6.0' })).toThrow(
      "LoadTestPlatform: 'tests[1].script' ui.js imports k6/browser (lib/visit.js line 1), so test 'ui' needs a browser, but 'runner.image' grafana/k6:1.6.0 has none; " +
        "set 'runner.image' to grafana/k6:1.6.0-with-browser, or remove 'runner.image' (browser tests then run grafana/k6:1.7.1-with-browser, the others grafana/k6:1.7.1)",
    );
    // AND the same image is fine when no test needs a browser
    expect(platform({ image: 'grafana/k6:1.6.0' }, [TESTS[0]!]).runs.get('api')!.image).toBe('grafana/k6:1.6.0');
  });

  test('an explicit image with a browser runs every test; an unknown one is a note; extensions stay an error', () => {
    const withBrowser = platform({ image: 'grafana/k6:1.6.0-with-browser' });
    expect([withBrowser.runs.get('api')!.image, withBrowser.runs.get('ui')!.image]).toEqual([
      'grafana/k6:1.6.0-with-browser',
      'grafana/k6:1.6.0-with-browser',
    ]);
    expect(withBrowser.warnings).toEqual([]);
    const custom = platform({ image: 'registry.example.com/team/k6-chrome:1.0.0' });
    expect(custom.runs.get('ui')!.image).toBe('registry.example.com/team/k6-chrome:1.0.0');
    expect(custom.warnings).toEqual([
      "LoadTestPlatform: 'tests[1].script' ui.js imports k6/browser (lib/visit.js line 1): make sure the runner image registry.example.com/team/k6-chrome:1.0.0 has a browser (the official one is grafana/k6:1.7.1-with-browser)",
    ]);
    const build = {
      registry: 'registry.example.com',
      repository: 'team/k6',
      build: 'local',
      extensions: [{ module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' }],
    };
    expect(() => platform(build)).toThrow(
      "LoadTestPlatform: 'tests[1].script' ui.js imports k6/browser (lib/visit.js line 1), but 'runner.extensions' builds k6 on grafana/k6:1.7.1, which has no browser; " +
        "run browser tests on 'runner.image' grafana/k6:1.7.1-with-browser (without extensions)",
    );
  });

  test('runner.imageDigests.k6WithBrowser with an explicit image or extensions is refused, naming the field', () => {
    expect(() =>
      parsePlatformConfig({ runner: { image: 'grafana/k6:1.7.1-with-browser', imageDigests: { k6WithBrowser: BROWSER_DIGEST } } }),
    ).toThrow(
      "'runner.imageDigests.k6WithBrowser' must not be set with runner.image (grafana/k6:1.7.1-with-browser): the explicit image runs every test; pin it with runner.imageDigests.k6 or in runner.image",
    );
    expect(() =>
      parsePlatformConfig({
        runner: {
          registry: 'registry.example.com',
          repository: 'team/k6',
          build: 'local',
          extensions: [{ module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' }],
          imageDigests: { k6WithBrowser: BROWSER_DIGEST },
        },
      }),
    ).toThrow("'runner.imageDigests.k6WithBrowser' must not be set with runner.extensions: the built image runs every test and has no browser");
  });

  test('browser runners: documented resources, /dev/shm in memory, larger /tmp, a writable home, headless without the Chromium sandbox', () => {
    // GIVEN the defaults
    const charts = platform();
    const objs = objsOf(charts);
    const ui = runnerPod(objs, charts.runs.get('ui')!.runId);
    const api = runnerPod(objs, charts.runs.get('api')!.runId);
    // THEN the browser runner has the browser defaults (runner.browser.resources), the HTTP runner runner.resources
    expect(k6Of(ui).resources).toEqual({ requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '4', memory: '8Gi' } });
    expect(k6Of(api).resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } });
    // AND its writable directories are emptyDirs: /tmp (profile, Chromium's shared memory), /dev/shm in memory, home
    const vol = (pod: Obj, name: string) => pod.volumes.find((v: Obj) => v.name === name);
    expect(vol(ui, 'tmp')).toEqual({ name: 'tmp', emptyDir: { sizeLimit: '2Gi' } });
    expect(vol(ui, 'dev-shm')).toEqual({ name: 'dev-shm', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } });
    expect(vol(ui, 'home')).toEqual({ name: 'home', emptyDir: { sizeLimit: '512Mi' } });
    expect(k6Of(ui).volumeMounts.filter((m: Obj) => ['tmp', 'dev-shm', 'home'].includes(m.name))).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'dev-shm', mountPath: '/dev/shm' },
      { name: 'home', mountPath: '/home/k6' },
    ]);
    // AND the HTTP runner is unchanged: 256Mi /tmp, no /dev/shm, no home
    expect(vol(api, 'tmp')).toEqual({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
    expect([vol(api, 'dev-shm'), vol(api, 'home')]).toEqual([undefined, undefined]);
    // AND Chromium runs headless without its own sandbox (the restricted profile withholds what it needs)
    const env = Object.fromEntries(k6Of(ui).env.map((e: Obj) => [e.name, e.value]));
    expect([env.K6_BROWSER_HEADLESS, env.K6_BROWSER_ARGS]).toEqual(['true', 'no-sandbox']);
    expect(k6Of(api).env.map((e: Obj) => e.name)).not.toContain('K6_BROWSER_ARGS');
  });

  test('every restricted-profile control holds for browser runners, in both forms: the root filesystem stays read-only', () => {
    const charts = platform({}, [...TESTS, { name: 'ui-op', script: 'ui.js', mode: 'operator' }]);
    const objs = objsOf(charts);
    expect(validateManifests(objs as Manifest[])).toEqual([]);
    expect(restrictedProfileViolations(objs)).toEqual([]);
    const ui = runnerPod(objs, charts.runs.get('ui')!.runId);
    expect(ui.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(k6Of(ui).securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 12345,
      runAsGroup: 12345,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const testRun = objs.find((o) => o.kind === 'TestRun')!;
    expect(testRun.spec.runner.containerSecurityContext.readOnlyRootFilesystem).toBe(true);
    expect(testRun.spec.runner.volumes.find((v: Obj) => v.name === 'dev-shm')).toEqual({
      name: 'dev-shm',
      emptyDir: { medium: 'Memory', sizeLimit: '1Gi' },
    });
    expect(testRun.spec.runner.volumeMounts.map((m: Obj) => m.mountPath)).toEqual(expect.arrayContaining(['/tmp', '/dev/shm', '/home/k6']));
    expect(Object.fromEntries(testRun.spec.runner.env.map((e: Obj) => [e.name, e.value])).K6_BROWSER_ARGS).toBe('no-sandbox');
  });

  test('runner.browser sets the browser defaults; a test overrides resources and sizes; its own K6_BROWSER_ARGS wins', () => {
    const charts = platform({ browser: { resources: { requests: { cpu: '3', memory: '6Gi' } }, shmSize: '2Gi', tmpSize: '4Gi' } }, [
      { name: 'ui', script: 'ui.js' },
      {
        name: 'ui-small',
        script: 'ui.js',
        resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '3Gi' } },
        browser: { shmSize: '256Mi' },
        env: { K6_BROWSER_ARGS: 'no-sandbox,lang=de-DE' },
      },
    ]);
    const objs = objsOf(charts);
    const ui = runnerPod(objs, charts.runs.get('ui')!.runId);
    const small = runnerPod(objs, charts.runs.get('ui-small')!.runId);
    const vol = (pod: Obj, name: string) => pod.volumes.find((v: Obj) => v.name === name).emptyDir.sizeLimit;
    expect(k6Of(ui).resources).toEqual({ requests: { cpu: '3', memory: '6Gi' } });
    expect([vol(ui, 'dev-shm'), vol(ui, 'tmp')]).toEqual(['2Gi', '4Gi']);
    expect(k6Of(small).resources).toEqual({ requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '3Gi' } });
    expect([vol(small, 'dev-shm'), vol(small, 'tmp')]).toEqual(['256Mi', '4Gi']);
    expect(k6Of(small).env.filter((e: Obj) => e.name === 'K6_BROWSER_ARGS')).toEqual([{ name: 'K6_BROWSER_ARGS', value: 'no-sandbox,lang=de-DE' }]);
  });

  test('a bad browser size fails naming the field, the value and what is allowed', () => {
    expect(() => parsePlatformConfig({ runner: { browser: { shmSize: '1GB' } } })).toThrow(
      `'runner.browser.shmSize' must be a Kubernetes quantity such as "500m", "1", "512Mi" or "2Gi", got "1GB"`,
    );
    expect(() => parsePlatformConfig({ tests: [{ name: 'ui', script: 'ui.js', browser: { tmpSize: 'big' } }] })).toThrow(
      `'tests[0].browser.tmpSize' must be a Kubernetes quantity such as "500m", "1", "512Mi" or "2Gi", got "big"`,
    );
  });

  test('a mixed test (HTTP and browser scenarios in one script) runs on the browser image with browser runners and judges both kinds of threshold', () => {
    // GIVEN the mixed script in both forms
    const charts = platform({}, [
      { name: 'mixed', script: 'mixed.js', parallelism: 2 },
      { name: 'mixed-op', script: 'mixed.js', mode: 'operator' },
    ]);
    const objs = objsOf(charts);
    const run = charts.runs.get('mixed')!;
    // THEN the browser image and browser runner sizing apply to the whole run (every runner may get a browser VU)
    const pod = runnerPod(objs, run.runId);
    expect(k6Of(pod).image).toBe('grafana/k6:1.7.1-with-browser');
    expect(k6Of(pod).resources.limits).toEqual({ cpu: '4', memory: '8Gi' });
    expect(objs.find((o) => o.kind === 'TestRun')!.spec.runner.image).toBe('grafana/k6:1.7.1-with-browser');
    // AND the script's HTTP and browser thresholds are both judged over all runners, the LCP one as a time trend
    expect(run.thresholds).toEqual({ 'http_req_duration{scenario:api}': ['p(95)<500'], browser_web_vital_lcp: ['p(75)<2500'] });
    expect(restrictedProfileViolations(objs)).toEqual([]);
  });
});
