import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { LoadTest, type LoadTestProps } from '../src/load-test/load-test';
import { parsePlatformConfig, PlatformConfigError, testSchema } from '../src/config/platform-config';
import { CONFIG_MAP_LIMIT_BYTES, TestScripts, type TestScriptsProps } from '../src/load-test/test-scripts';
import { buildEnvironment, MAX_OBJECT_BYTES, oversizedObjects } from '../src/output/synth';
import { environmentFiles } from '../src/output/environment-files';
import { restrictedProfileViolations } from '../../test/support/pod-security';
import { validateManifests, type Manifest } from '../../test/support/schemas';
import { writeLargeFileBundle, writeManyFileBundle, type WrittenBundle } from '../../test/support/large-bundle';
import { entryBytes } from '../src/load-test/bundle-parts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RW_URL = 'http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function newDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'k6-large-'));
  dirs.push(dir);
  return dir;
}

const manyDir = newDir();
const many = writeManyFileBundle(manyDir);
const harDir = newDir();
const har = writeLargeFileBundle(harDir);

/** One run of `bundle` as a LoadTest of `mode`, its scripts with `scriptsProps`. */
function synth(
  dir: string,
  bundle: WrittenBundle,
  test: Record<string, unknown> = {},
  scriptsProps: Partial<TestScriptsProps> = {},
  extra: Partial<LoadTestProps> = {},
): { objs: Obj[]; scripts: TestScripts } {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'k6' });
  const scripts = new TestScripts(chart, 'Scripts', { testName: 'big', entry: bundle.entry, scriptsDir: dir, ...scriptsProps });
  new LoadTest(chart, 'Run', {
    test: testSchema.parse({ name: 'big', script: bundle.entry, runId: 'big-run', ...test }),
    scripts,
    remoteWriteUrl: RW_URL,
    ...extra,
  });
  return { objs: Testing.synth(chart) as Obj[], scripts };
}

const configMaps = (objs: Obj[]) => objs.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels['app.kubernetes.io/component'] === 'test-script');
/** The bytes the API server counts against 1 MiB: the raw values of data and binaryData (ValidateConfigMap). */
const countedBytes = (cm: Obj) =>
  Object.values((cm.data ?? {}) as Record<string, string>).reduce((n, v) => n + Buffer.byteLength(v), 0) +
  Object.values((cm.binaryData ?? {}) as Record<string, string>).reduce((n, v) => n + Buffer.from(v, 'base64').length, 0);
/** Each file's bytes as the pod would see them: path -> content, from the projected sources' items. */
function projectedFiles(volume: Obj, cms: Obj[]): Map<string, Buffer> {
  const sources: Obj[] = volume.projected !== undefined ? volume.projected.sources : [{ configMap: volume.configMap }];
  const out = new Map<string, Buffer>();
  for (const s of sources) {
    const cm = cms.find((c) => c.metadata.name === s.configMap.name)!;
    for (const item of s.configMap.items as { key: string; path: string }[]) {
      expect(out.has(item.path)).toBe(false); // every path projected exactly once
      const text = cm.data?.[item.key] as string | undefined;
      out.set(item.path, text !== undefined ? Buffer.from(text) : Buffer.from(cm.binaryData[item.key] as string, 'base64'));
    }
  }
  return out;
}
const runnerPod = (objs: Obj[]) => objs.find((o) => o.kind === 'Job')!.spec.template.spec;
const k6Container = (pod: Obj) => (pod.containers as Obj[]).find((c) => c.name === 'k6')!;
const testRun = (objs: Obj[]) => objs.find((o) => o.kind === 'TestRun')!;

describe('a 5 MiB bundle of many files, some binary', () => {
  test('is spread over immutable ConfigMaps under 1 MiB each, named by content hash', () => {
    // WHEN
    const { objs, scripts } = synth(manyDir, many);
    const cms = configMaps(objs);
    // THEN the bundle is over 5 MiB and needs 6 ConfigMaps, each under the limit as counted and as sent
    const total = [...many.files.values()].reduce((n, b) => n + b.length, 0);
    expect(total).toBeGreaterThan(5 * 1024 * 1024);
    expect(cms).toHaveLength(6);
    for (const cm of cms) {
      expect(cm.immutable).toBe(true);
      expect(countedBytes(cm)).toBeLessThan(CONFIG_MAP_LIMIT_BYTES);
      expect(Buffer.byteLength(JSON.stringify(cm))).toBeLessThan(CONFIG_MAP_LIMIT_BYTES);
      expect(cm.metadata.name).toMatch(/^k6-big-[0-9a-f]{12}$/);
      expect(cm.metadata.labels).toEqual({ 'app.kubernetes.io/component': 'test-script', 'k6.platform/test': 'big' });
      expect(cm.metadata.annotations['k6.platform/bundle']).toBe(scripts.hash);
      expect(cm.metadata.annotations['k6.platform/entry']).toBe('large.js');
    }
    expect(cms.map((c) => c.metadata.annotations['k6.platform/part'])).toEqual(['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']);
    expect(new Set(cms.map((c) => c.metadata.name)).size).toBe(6);
    // binary files in binaryData, text in data
    const binaryKeys = cms.flatMap((c) => Object.keys(c.binaryData ?? {})).sort();
    expect(binaryKeys).toEqual(['bin__blob-0.bin', 'bin__blob-1.bin', 'bin__blob-2.bin', 'bin__blob-3.bin']);
    // no object of the run is near etcd's request limit
    for (const o of objs) expect(Buffer.byteLength(JSON.stringify(o))).toBeLessThan(MAX_OBJECT_BYTES);
  });

  test('names are the same on every synth; an edited file renames only the ConfigMap holding it', () => {
    // GIVEN a copy of the bundle with one CSV edited (same size)
    const edited = newDir();
    const copy = writeManyFileBundle(edited);
    const csv = copy.files.get('data/users-3.csv')!;
    writeFileSync(path.join(edited, 'data/users-3.csv'), Buffer.concat([Buffer.from('X'), csv.subarray(1)]));
    // WHEN
    const names = (dir: string) => configMaps(synth(dir, many).objs).map((c) => c.metadata.name as string);
    const first = names(manyDir);
    const again = names(manyDir);
    const after = names(edited);
    // THEN
    expect(again).toEqual(first);
    expect(after.filter((n) => !first.includes(n))).toHaveLength(1);
  });

  test('jobs form: ONE projected volume at /scripts covers every file exactly once, byte for byte', () => {
    // WHEN
    const { objs } = synth(manyDir, many);
    const pod = runnerPod(objs);
    const volume = (pod.volumes as Obj[]).find((v) => v.name === 'scripts')!;
    // THEN
    expect(Object.keys(volume).sort()).toEqual(['name', 'projected']);
    expect(volume.projected.sources).toHaveLength(6);
    const seen = projectedFiles(volume, configMaps(objs));
    expect([...seen.keys()].sort()).toEqual([...many.files.keys()].sort());
    for (const [rel, content] of many.files) expect(seen.get(rel)!.equals(content)).toBe(true);
    expect(k6Container(pod).volumeMounts).toContainEqual({ name: 'scripts', mountPath: '/scripts', readOnly: true });
    expect(k6Container(pod).args.at(-1)).toBe('/scripts/large.js');
    expect(validateManifests(objs as Manifest[])).toEqual([]);
    expect(restrictedProfileViolations(objs)).toEqual([]);
  });

  test('operator form: runners and initializer mount the same projected volume and run /scripts/large.js', () => {
    // WHEN
    const { objs } = synth(manyDir, many, { mode: 'operator' });
    const tr = testRun(objs);
    // THEN the operator's own ConfigMap script cannot hold several ConfigMaps: a local file in the projected volume
    expect(tr.spec.script).toEqual({ localFile: '/scripts/large.js' });
    for (const pod of [tr.spec.runner, tr.spec.initializer]) {
      const volume = (pod.volumes as Obj[]).find((v) => v.name === 'scripts')!;
      expect(volume.projected.sources).toHaveLength(6);
      expect([...projectedFiles(volume, configMaps(objs)).keys()].sort()).toEqual([...many.files.keys()].sort());
      expect(pod.volumeMounts).toContainEqual({ name: 'scripts', mountPath: '/scripts', readOnly: true });
    }
    expect(validateManifests(objs as Manifest[])).toEqual([]);
    expect(restrictedProfileViolations(objs)).toEqual([]);
  });
});

describe('one 3 MiB file', () => {
  test('without a data source fails the synth, naming the test, the file, its size and the options', () => {
    expect(() => synth(harDir, har)).toThrow(
      "TestScripts: test 'big': file 'data/recording.har' is 3145728 bytes, more than one ConfigMap holds (1040384 bytes of data, under the API server's 1 MiB); " +
        "give the test a data source for files this large: 'data: { mode: image }' (baked into a data image), " +
        "'data: { mode: pvc, claimName }' (a PersistentVolumeClaim holding the file) or 'data: { mode: oci-volume, image }' (an image volume, Kubernetes 1.33+)",
    );
  });

  const modes = {
    pvc: { mode: 'pvc', claimName: 'load-data', subPath: 'k6' },
    'oci-volume': { mode: 'oci-volume', image: 'registry.example.com/team/k6-data@sha256:' + 'a'.repeat(64), subPath: '' },
    image: { mode: 'image' },
  } as const;
  const dataImage = 'registry.example.com/team/k6-data:big-0123456789ab';
  const expectedVolume: Record<keyof typeof modes, Obj> = {
    pvc: { name: 'k6-data', persistentVolumeClaim: { claimName: 'load-data', readOnly: true } },
    'oci-volume': { name: 'k6-data', image: { reference: modes['oci-volume'].image, pullPolicy: 'IfNotPresent' } },
    image: { name: 'k6-data', emptyDir: { sizeLimit: '4Mi' } },
  };
  const expectedSubPath = { pvc: 'k6/data/recording.har', 'oci-volume': 'data/recording.har', image: 'data/recording.har' };

  describe.each(Object.keys(modes) as (keyof typeof modes)[])('mode %s', (mode) => {
    const data = testSchema.shape.data.parse(modes[mode])!;
    const run = (test: Record<string, unknown> = {}) => synth(harDir, har, test, { data }, { dataImage });

    test('jobs form: the file is mounted over its placeholder at its own path; the rest stays in one ConfigMap', () => {
      // WHEN
      const { objs, scripts } = run();
      const pod = runnerPod(objs);
      const cms = configMaps(objs);
      // THEN the ConfigMap holds the small files and an empty placeholder for the data file
      expect(cms).toHaveLength(1);
      expect(cms[0]!.data['data__recording.har']).toBe('');
      expect(scripts.dataFiles.map((f) => f.path)).toEqual(['data/recording.har']);
      const volume = (pod.volumes as Obj[]).find((v) => v.name === 'scripts')!;
      const seen = projectedFiles(volume, cms);
      expect([...seen.keys()].sort()).toEqual([...har.files.keys()].sort());
      expect(seen.get('har.js')!.equals(har.files.get('har.js')!)).toBe(true);
      // the data volume and the mount over the placeholder
      expect((pod.volumes as Obj[]).filter((v) => v.name === 'k6-data')).toEqual([expectedVolume[mode]]);
      expect(k6Container(pod).volumeMounts.slice(0, 2)).toEqual([
        { name: 'scripts', mountPath: '/scripts', readOnly: true },
        { name: 'k6-data', mountPath: '/scripts/data/recording.har', subPath: expectedSubPath[mode], readOnly: true },
      ]);
      expect(validateManifests(objs as Manifest[])).toEqual([]);
      expect(restrictedProfileViolations(objs)).toEqual([]);
    });

    test('operator form: runners and the initializer get the data volume, mounts (and the copy)', () => {
      // WHEN
      const { objs } = run({ mode: 'operator' });
      const tr = testRun(objs);
      // THEN
      expect(tr.spec.script).toEqual({ localFile: '/scripts/har.js' });
      for (const pod of [tr.spec.runner, tr.spec.initializer]) {
        expect((pod.volumes as Obj[]).filter((v) => v.name === 'k6-data')).toEqual([expectedVolume[mode]]);
        expect(pod.volumeMounts).toContainEqual({
          name: 'k6-data',
          mountPath: '/scripts/data/recording.har',
          subPath: expectedSubPath[mode],
          readOnly: true,
        });
        expect(pod.initContainers ?? []).toEqual(
          mode === 'image'
            ? [
                {
                  name: 'data',
                  image: dataImage,
                  command: ['cp', '-R', '/k6-data/.', '/k6-data-out/'],
                  resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
                  volumeMounts: [{ name: 'k6-data', mountPath: '/k6-data-out' }],
                },
              ]
            : [],
        );
      }
      expect(validateManifests(objs as Manifest[])).toEqual([]);
      expect(restrictedProfileViolations(objs)).toEqual([]);
    });
  });

  test("mode oci-volume on a schedule: the CronJob's pod template gets the image volume too", () => {
    // WHEN
    const data = testSchema.shape.data.parse(modes['oci-volume'])!;
    const { objs } = synth(harDir, har, { schedule: '0 2 * * *' }, { data });
    const pod = objs.find((o) => o.kind === 'CronJob')!.spec.jobTemplate.spec.template.spec;
    // THEN
    expect((pod.volumes as Obj[]).filter((v) => v.name === 'k6-data')).toEqual([expectedVolume['oci-volume']]);
    expect(k6Container(pod).volumeMounts[1]).toEqual({
      name: 'k6-data',
      mountPath: '/scripts/data/recording.har',
      subPath: 'data/recording.har',
      readOnly: true,
    });
    expect(validateManifests(objs as Manifest[])).toEqual([]);
    expect(restrictedProfileViolations(objs)).toEqual([]);
  });

  test('mode image: the runner pod copies the data image into the data volume before k6 starts, restricted', () => {
    // WHEN
    const data = testSchema.shape.data.parse({ mode: 'image' })!;
    const pod = runnerPod(synth(harDir, har, {}, { data }, { dataImage }).objs);
    // THEN
    expect(pod.initContainers).toEqual([
      {
        name: 'data',
        image: dataImage,
        command: ['cp', '-R', '/k6-data/.', '/k6-data-out/'],
        resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsGroup: 12345,
          runAsNonRoot: true,
          runAsUser: 12345,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        volumeMounts: [{ name: 'k6-data', mountPath: '/k6-data-out' }],
      },
    ]);
  });
});

describe("'tests[].data' in the platform config", () => {
  const problemsOf = (data: unknown): readonly string[] => {
    try {
      parsePlatformConfig({ tests: [{ name: 'big', script: 'har.js', data }] });
    } catch (e) {
      if (e instanceof PlatformConfigError) return e.problems;
      throw e;
    }
    throw new Error('parsed');
  };

  test('each mode parses with its defaults', () => {
    const parse = (data: unknown) => parsePlatformConfig({ tests: [{ name: 'big', script: 'har.js', data }] }).tests[0]!.data;
    expect(parse({ mode: 'image' })).toEqual({ mode: 'image' });
    expect(parse({ mode: 'pvc', claimName: 'load-data' })).toEqual({ mode: 'pvc', claimName: 'load-data', subPath: '' });
    expect(parse({ mode: 'oci-volume', image: 'registry.example.com/d:1' })).toEqual({
      mode: 'oci-volume',
      image: 'registry.example.com/d:1',
      pullPolicy: 'IfNotPresent',
      subPath: '',
    });
  });

  test('bad values name the field, the value and what is allowed', () => {
    expect(problemsOf({ mode: 'configmap' })).toEqual([`'tests[0].data.mode' must be one of "image", "pvc", "oci-volume", got "configmap"`]);
    expect(problemsOf({ mode: 'pvc' })).toEqual([`'tests[0].data.claimName' is required (string), got nothing`]);
    expect(problemsOf({ mode: 'pvc', claimName: 'Data_PVC' })).toEqual([
      `'tests[0].data.claimName' must be a DNS subdomain: lower-case letters, digits, "-" and ".", got "Data_PVC"`,
    ]);
    expect(problemsOf({ mode: 'pvc', claimName: 'd', subPath: '../etc' })).toEqual([
      `'tests[0].data.subPath' must be a relative path inside the volume such as "k6/data" (no leading "/", no "." or ".." segments), got "../etc"`,
    ]);
    expect(problemsOf({ mode: 'oci-volume', image: 'not an image' })[0]).toMatch(/^'tests\[0\]\.data\.image' must be an OCI image reference/);
    expect(problemsOf('pvc')).toEqual([`'tests[0].data' must be an object with a "mode", got "pvc"`]);
    expect(problemsOf({ mode: 'image', claimName: 'x' })).toEqual([`'tests[0].data.claimName' is not a known setting (allowed here: mode)`]);
  });
});

describe('a whole environment with both tests', () => {
  test('synth builds every file; every object is under the API server limit, schema-valid and restricted', () => {
    // GIVEN one scripts directory with both bundles, one test of each form
    const dir = newDir();
    writeManyFileBundle(dir);
    writeLargeFileBundle(dir);
    const config = parsePlatformConfig({
      tests: [
        { name: 'large', script: 'large.js' },
        { name: 'har', script: 'har.js', mode: 'operator', data: { mode: 'pvc', claimName: 'load-data' } },
      ],
    });
    // WHEN
    const { app, charts } = buildEnvironment(config, dir);
    const { objects, files } = environmentFiles(config, app, charts);
    // THEN
    expect(oversizedObjects('dev', objects)).toEqual([]);
    expect(configMaps(objects as unknown as Obj[]).map((c) => c.metadata.labels['k6.platform/test'])).toEqual([
      'large',
      'large',
      'large',
      'large',
      'large',
      'large',
      'har',
    ]);
    expect(validateManifests(objects as Manifest[])).toEqual([]);
    expect(restrictedProfileViolations(objects)).toEqual([]);
    // the script ConfigMaps are deployed with the platform, the runs reference them
    const platform = files.get('platform/0002-loadtests.k8s.yaml')!;
    for (const cm of configMaps(objects as unknown as Obj[])) expect(platform).toContain(`name: ${cm.metadata.name}\n`);
  });
});

describe('entryBytes', () => {
  test('is what the entry adds to the ConfigMap as JSON: escapes, multi-byte text and base64 counted', () => {
    const files = [
      { key: 'a.js', content: 'const s = "quoted"\n\ttab \u0001 é 😀', binary: false },
      { key: 'b.bin', content: Buffer.from([0xff, 0, 1, 2, 250]).toString('base64'), binary: true },
    ];
    for (const f of files) expect(entryBytes(f)).toBe(Buffer.byteLength(`${JSON.stringify(f.key)}:${JSON.stringify(f.content)},`));
  });
});
