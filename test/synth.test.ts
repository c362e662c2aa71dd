/**
 * `cdk8s synth` end to end: every environment, deterministic, atomic, labelled, and schema-valid.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as YAML from 'yaml';
import * as path from 'node:path';
import {
  buildEnvironment,
  discoverEnvironments,
  GENERATED_HEADER,
  KILL_AFTER_STEP_ENV,
  loadEnvironmentConfig,
  OUTPUT_MARKER,
  synthesize,
} from '../constructs/src/output/synth';
import { applyOrder } from '../constructs/src/output/environment-files';
import { isRunObject, platformManifests, type KubeObject } from '../constructs/src/platform/deploy';
import { parseYamlStream, validateManifests, type Manifest } from './support/schemas';
import { planRun } from '../cli/run/run-plan';
import { readTree } from './support/files';

const repoRoot = path.resolve(__dirname, '..');
const dashboardsDir = path.join(repoRoot, 'dashboards', 'generated');
const temps: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The Kubernetes objects of the manifest files in one folder. */
function objectsIn(dir: string): Manifest[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.k8s.yaml'))
    .flatMap((f) => parseYamlStream(readFileSync(path.join(dir, f), 'utf8')));
}

/** All Kubernetes objects of one synthesized environment: the platform's and one run of each test. */
function objectsOf(envDir: string): Manifest[] {
  return [...objectsIn(path.join(envDir, 'platform')), ...objectsIn(path.join(envDir, 'runs'))];
}

const keyOf = (o: Manifest) => `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const byKey = (objs: readonly Manifest[]) => [...objs].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
const runIdOf = (o: Manifest) => o.metadata?.labels?.['k6.platform/run-id'];

/** A copy of the repository's synth inputs in a temp dir (node_modules linked), to run the real CLI in isolation. */
function repoCopy(): string {
  const dir = tempDir('k6-repo-');
  for (const item of ['cdk8s.yaml', 'package.json', 'tsconfig.json', 'constructs', 'scripts', 'dashboards']) {
    if (existsSync(path.join(repoRoot, item))) cpSync(path.join(repoRoot, item), path.join(dir, item), { recursive: true });
  }
  for (const f of readdirSync(repoRoot).filter((f) => /^Pulumi\..*yaml$/.test(f))) cpSync(path.join(repoRoot, f), path.join(dir, f));
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/**
 * Turns a synth output into what the synth before the marker wrote: no marker, and each environment's files at the top
 * of its folder (no platform/ or runs/; the run objects lived in the chart files then).
 */
function toPreviousLayout(dir: string): void {
  rmSync(path.join(dir, OUTPUT_MARKER));
  rmSync(path.join(dir, 'chart'), { recursive: true });
  for (const env of readdirSync(dir)) {
    const platform = path.join(dir, env, 'platform');
    for (const f of readdirSync(platform)) renameSync(path.join(platform, f), path.join(dir, env, f));
    rmSync(platform, { recursive: true });
    rmSync(path.join(dir, env, 'runs'), { recursive: true });
  }
}

describe('loadEnvironmentConfig', () => {
  test('dev runs on defaults without a stack file; any other environment needs its file', () => {
    // GIVEN a repository with one stack file
    const root = tempDir('k6-envs-');
    writeFileSync(path.join(root, 'Pulumi.staging.yaml'), 'config:\n  k6platform:runner:\n    pushInterval: 10s\n');
    // WHEN / THEN
    expect(loadEnvironmentConfig(root, 'dev').environment).toBe('dev');
    expect(loadEnvironmentConfig(root, 'staging').runner.pushInterval).toBe('10s');
    expect(() => loadEnvironmentConfig(root, 'stagign')).toThrow(
      "Invalid Pulumi.stagign.yaml (1 problem):\n  - environment 'stagign' has no stack file Pulumi.stagign.yaml (environments here: dev, staging); " +
        `create Pulumi.stagign.yaml with a "config:" section, or pick one of those (only 'dev' runs on defaults without a file)`,
    );
  });

  test('a stack file that is not a mapping with config: is refused, not read as defaults', () => {
    const root = tempDir('k6-envs-');
    writeFileSync(path.join(root, 'Pulumi.qa.yaml'), 'hello\n');
    expect(() => loadEnvironmentConfig(root, 'qa')).toThrow(
      'Invalid Pulumi.qa.yaml (1 problem):\n  - Pulumi.qa.yaml must be a YAML mapping with a "config:" section (Pulumi stack settings), got a string',
    );
  });

  test('YAML errors name the file and the line; a typo in the namespace is caught', () => {
    const root = tempDir('k6-envs-');
    writeFileSync(path.join(root, 'Pulumi.qa.yaml'), 'config:\n  k6platform:runner:\n    image: a: b\n');
    writeFileSync(path.join(root, 'Pulumi.qb.yaml'), 'config:\n  k6platfrom:tests: []\n');
    expect(() => loadEnvironmentConfig(root, 'qa')).toThrow(
      'Invalid Pulumi.qa.yaml (1 problem):\n  - Pulumi.qa.yaml:3:12: Nested mappings are not allowed in compact mappings',
    );
    expect(() => loadEnvironmentConfig(root, 'qb')).toThrow(
      /^Invalid Pulumi\.qb\.yaml \(1 problem\):\n {2}- 'k6platfrom:tests' is in an unknown config namespace "k6platfrom" \(did you mean 'k6platform:tests'\?\)/,
    );
  });

  test('synth of an environment without a stack file fails and writes nothing', () => {
    const outDir = path.join(tempDir('k6-synth-'), 'dist');
    expect(() => synthesize({ rootDir: repoRoot, outDir, environments: ['prdo'] })).toThrow(
      /environment 'prdo' has no stack file Pulumi\.prdo\.yaml/,
    );
    expect(existsSync(outDir)).toBe(false);
  });
});

describe('synthesize', () => {
  const outDir = path.join(tempDir('k6-synth-'), 'dist');
  let results: ReturnType<typeof synthesize>;
  beforeAll(() => {
    results = synthesize({ rootDir: repoRoot, outDir });
  });

  test('writes one folder per environment, dev included with no stack file needed', () => {
    expect([...results.keys()]).toEqual(discoverEnvironments(repoRoot));
    expect(discoverEnvironments(repoRoot)).toContain('dev');
    for (const env of results.keys()) {
      expect(readdirSync(path.join(outDir, env)).sort()).toEqual(['platform', 'runs']);
      expect(readdirSync(path.join(outDir, env, 'platform'))).toEqual(expect.arrayContaining(['kube-prometheus-stack.values.yaml']));
      expect(objectsOf(path.join(outDir, env)).length).toBe(results.get(env)!.objectCount);
      expect(results.get(env)!.files).toEqual(expect.arrayContaining([`${env}/platform/0000-namespaces.k8s.yaml`, `${env}/runs/sample.k8s.yaml`]));
    }
    // AND one Helm chart beside them, with a values file per environment
    expect(readdirSync(path.join(outDir, 'chart')).sort()).toEqual([
      'Chart.yaml',
      'templates',
      ...[...results.keys()].map((env) => `values-${env}.yaml`).sort(),
      'values.schema.json',
      'values.yaml',
    ]);
  });

  test('is deterministic: two runs give identical bytes', () => {
    // GIVEN
    const second = path.join(tempDir('k6-synth-'), 'dist');
    // WHEN
    synthesize({ rootDir: repoRoot, outDir: second });
    // THEN
    expect(readTree(second)).toEqual(readTree(outDir));
  });

  test('every object of every environment is schema-valid', () => {
    for (const env of results.keys()) {
      expect(validateManifests(objectsOf(path.join(outDir, env)))).toEqual([]);
    }
  });

  test('every object carries the platform labels of its environment', () => {
    for (const env of results.keys()) {
      for (const obj of objectsOf(path.join(outDir, env))) {
        expect({ kind: obj.kind, name: obj.metadata?.name, labels: obj.metadata?.labels }).toEqual({
          kind: obj.kind,
          name: obj.metadata?.name,
          labels: expect.objectContaining({
            'app.kubernetes.io/name': 'k6-platform',
            'app.kubernetes.io/part-of': 'k6-platform',
            'app.kubernetes.io/managed-by': 'cdk8s',
            'k6.platform/environment': env,
          }),
        });
      }
    }
  });

  test('the values file is the monitoring values, with a generated header', () => {
    const text = readFileSync(path.join(outDir, 'dev', 'platform', 'kube-prometheus-stack.values.yaml'), 'utf8');
    expect(text.startsWith(GENERATED_HEADER)).toBe(true);
    expect(text).toMatch(/enableRemoteWriteReceiver: true/);
    expect(text).toMatch(/enableFeatures:\n\s+- native-histograms/);
  });

  describe('the layout of dev, file by file', () => {
    const dev = path.join(outDir, 'dev');
    const read = (rel: string) => readFileSync(path.join(dev, rel), 'utf8');
    /** dev built again in memory: what Pulumi deploys (platformManifests) and every object of its charts. */
    const fresh = () => {
      const { app, charts } = buildEnvironment(results.get('dev')!.config, path.join(repoRoot, 'scripts'), '.', dashboardsDir);
      return { app, charts, all: app.charts.flatMap((c) => c.toJson() as Manifest[]) };
    };

    test('platform/ holds each chart file without any run object: what Pulumi and the Helm bundle deploy', () => {
      // GIVEN what the deployments deploy (dev renders no kube-prometheus-stack, so nothing else is left out)
      const { app, charts } = fresh();
      const manifests = platformManifests(app, charts);
      // THEN
      expect(readdirSync(path.join(dev, 'platform')).sort()).toEqual([...manifests.map((m) => m.fileName), 'kube-prometheus-stack.values.yaml']);
      expect(manifests.map((m) => m.fileName)).toEqual(['0000-namespaces.k8s.yaml', '0001-monitoring.k8s.yaml', '0002-loadtests.k8s.yaml']);
      for (const m of manifests)
        expect({ file: m.fileName, objects: parseYamlStream(read(`platform/${m.fileName}`)) }).toEqual({ file: m.fileName, objects: m.objects });
      const platform = objectsIn(path.join(dev, 'platform'));
      expect(platform.length).toBeGreaterThan(5);
      expect(platform.filter((o) => runIdOf(o) !== undefined).map(keyOf)).toEqual([]);
      expect(readdirSync(path.join(outDir, 'chart', 'templates')).sort()).toEqual([
        '0000-namespaces.yaml',
        '0001-monitoring.yaml',
        '0002-loadtests.yaml',
        'NOTES.txt',
        '_helpers.tpl',
      ]);
    });

    test('runs/<test>.k8s.yaml holds exactly the run objects of that test, in apply order, headed by what it is', () => {
      // GIVEN
      const { charts, all } = fresh();
      const cfg = results.get('dev')!.config;
      expect(readdirSync(path.join(dev, 'runs')).sort()).toEqual(cfg.tests.map((t) => `${t.name}.k8s.yaml`).sort());
      for (const t of cfg.tests) {
        // WHEN
        const text = read(`runs/${t.name}.k8s.yaml`);
        const objects = parseYamlStream(text);
        const runId = charts.runs.get(t.name)!.runId;
        // THEN the header says what the file is, who applies it and what applying it does
        expect(text.split('\n').slice(0, 6)).toEqual([
          GENERATED_HEADER.trimEnd(),
          `# One run of test '${t.name}' (environment dev, run id ${runId}), for reading and review.`,
          '# No deployment applies it: neither `pulumi up` nor `helm install` (they deploy ../platform/).',
          `# \`npx loadtest run ${t.name} --env dev\` applies these objects with a fresh run id`,
          "# (with the test's script ConfigMap, which ../platform/ holds), follows the run and judges it.",
          `# Applying this file by hand (kubectl apply -f) STARTS A RUN, with run id ${runId}.`,
        ]);
        // AND it holds every object of the run, and nothing else
        const expected = all.filter((o) => isRunObject(o as KubeObject) && o.metadata?.labels?.['k6.platform/test'] === t.name);
        expect(expected.length).toBeGreaterThan(3);
        expect(byKey(objects)).toEqual(byKey(expected));
        expect(objects.map(runIdOf).filter((id) => id !== runId)).toEqual([]);
        // AND in the order `loadtest run` applies them: service accounts and configs first, what starts the run last
        expect(objects.map((o) => o.kind)).toEqual(applyOrder(objects as KubeObject[]).map((o) => o.kind));
        expect(objects[0]!.kind).toBe('ServiceAccount');
        expect(objects.at(-1)!.kind).toBe(t.mode === 'operator' ? 'TestRun' : 'Job');
      }
    });

    test('a runs file is what `loadtest run` applies, but for the run id (and the script ConfigMap platform/ holds)', () => {
      // GIVEN
      const cfg = results.get('dev')!.config;
      const { charts } = fresh();
      for (const t of cfg.tests) {
        // WHEN loadtest run plans a run with a fresh run id
        const plan = planRun(cfg, repoRoot, t.name, 'fresh-20261202-200000');
        const text = read(`runs/${t.name}.k8s.yaml`).replaceAll(charts.runs.get(t.name)!.runId, 'fresh-20261202-200000');
        // THEN it applies the runs file's objects, in the same order, plus the test's script ConfigMap
        const scripts = plan.objects.filter((o) => runIdOf(o as Manifest) === undefined);
        expect(scripts.map((o) => `${o.kind}/${o.metadata.labels?.['app.kubernetes.io/component']}`)).toEqual(['ConfigMap/test-script']);
        expect(plan.objects.filter((o) => !scripts.includes(o))).toEqual(parseYamlStream(text));
      }
    });

    test('platform/ and runs/ together are byte for byte what cdk8s synth writes, each object once', () => {
      // GIVEN the files `app.synth()` writes for the same environment
      const scratch = tempDir('k6-cdk8s-');
      const { app } = buildEnvironment(results.get('dev')!.config, path.join(repoRoot, 'scripts'), scratch, dashboardsDir);
      app.synth();
      const runDocs = new Set(
        readdirSync(path.join(dev, 'runs')).flatMap((f) =>
          read(`runs/${f}`)
            .replace(/^(#.*\n)+/, '')
            .split('---\n'),
        ),
      );
      // THEN each platform file is the cdk8s file without the documents of the runs, every run document is from it
      let moved = 0;
      for (const f of readdirSync(scratch)) {
        const docs = readFileSync(path.join(scratch, f), 'utf8').split('---\n');
        const kept = docs.filter((d) => !runDocs.has(d));
        moved += docs.length - kept.length;
        expect({ f, text: read(`platform/${f}`) }).toEqual({ f, text: kept.join('---\n') });
      }
      expect(moved).toBe(runDocs.size);
      expect(moved).toBeGreaterThan(10);
    });
  });

  test('a bad config fails before anything is written and names the field; the previous output stays', () => {
    // GIVEN
    const root = repoCopy();
    const before = readTree(outDir);
    writeFileSync(
      path.join(root, 'Pulumi.qa.yaml'),
      'config:\n  k6platform:tests:\n    - name: sample\n      script: sample.js\n      parallelism: 0\n',
    );
    // WHEN
    const run = () => synthesize({ rootDir: root, outDir });
    // THEN
    expect(run).toThrow(/Invalid Pulumi\.qa\.yaml \(1 problem\):\n {2}- 'k6platform:tests\[0\]\.parallelism' must be at least 1, got 0/);
    expect(readTree(outDir)).toEqual(before);
  });

  test('a failure while building (missing script) leaves the previous output and no temp folders', () => {
    // GIVEN
    const root = repoCopy();
    const before = readTree(outDir);
    writeFileSync(path.join(root, 'Pulumi.qa.yaml'), 'config:\n  k6platform:tests:\n    - name: gone\n      script: gone.js\n');
    // WHEN
    const run = () => synthesize({ rootDir: root, outDir });
    // THEN
    expect(run).toThrow(/'tests\[0\]\.script' "gone\.js" does not exist in 'scriptsDir'/);
    expect(readTree(outDir)).toEqual(before);
    expect(readdirSync(path.dirname(outDir))).toEqual([path.basename(readlinkSync(outDir)), 'dist']);
  });

  test('what the scripts need from the runner image is checked: a missing extension fails, an unknown image is a note', () => {
    // GIVEN a browser test with a CA bundle from the image, and a test importing an extension nobody declared
    const root = repoCopy();
    writeFileSync(
      path.join(root, 'scripts', 'ui.js'),
      "import { browser } from 'k6/browser';\nconst ca = open('/etc/ssl/certs/ca-certificates.crt');\nexport default async function () {}\n",
    );
    writeFileSync(path.join(root, 'scripts', 'fake.js'), "import faker from 'k6/x/faker';\nexport default function () {}\n");
    const qa =
      'config:\n  k6platform:runner:\n    image: registry.example.com/qa/k6-chrome:1.0.0\n  k6platform:tests:\n    - name: ui\n      script: ui.js\n';
    writeFileSync(path.join(root, 'Pulumi.qa.yaml'), qa);
    // WHEN
    const results = synthesize({ rootDir: root, outDir: path.join(root, 'dist'), environments: ['qa'] });
    // THEN the synth says what it could not check
    expect(results.get('qa')!.notes).toEqual(
      expect.arrayContaining([
        `TestScripts: 'ui.js' line 2: open() of the absolute path "/etc/ssl/certs/ca-certificates.crt" is not bundled; it must exist in the runner image`,
        "LoadTestPlatform: 'tests[0].script' ui.js imports k6/browser (ui.js line 1): make sure the runner image registry.example.com/qa/k6-chrome:1.0.0 has a browser (the official one is grafana/k6:1.7.1-with-browser)",
      ]),
    );
    // AND a k6/x module no extension provides fails the synth
    writeFileSync(path.join(root, 'Pulumi.qa.yaml'), 'config:\n  k6platform:tests:\n    - name: fake\n      script: fake.js\n');
    expect(() => synthesize({ rootDir: root, outDir: path.join(root, 'dist'), environments: ['qa'] })).toThrow(
      /LoadTestPlatform: 'tests\[0\]\.script' fake\.js imports k6\/x\/faker \(fake\.js line 1\), which no 'runner\.extensions' entry provides/,
    );
  });

  test('an object over the API server size limit fails the synth before anything is written, naming it and its size', () => {
    // GIVEN a test whose environment holds 1.6 MB (it ends up in the runner Job's pod template)
    const root = repoCopy();
    writeFileSync(
      path.join(root, 'Pulumi.dev.yaml'),
      YAML.stringify({ config: { 'k6platform:tests': [{ name: 'big', script: 'sample.js', env: { BLOB: 'x'.repeat(1_600_000) } }] } }),
    );
    const out = path.join(tempDir('k6-synth-'), 'dist');
    // WHEN
    const run = () => synthesize({ rootDir: root, outDir: out, environments: ['dev'] });
    // THEN
    expect(run).toThrow(
      /^Objects too large for the API server \(1\):\n {2}- dev: 'Job\/big-[0-9a-f]{6}-runner' is \d{7} bytes, over the API server's limit of 1572864 bytes \(1\.5 MiB, etcd's request size\) for one object: split it/,
    );
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(path.dirname(out))).toEqual([]);
  });
});

describe('the output directory', () => {
  test("a link to someone else's directory is refused even when it holds a marker, and nothing is deleted", () => {
    // GIVEN dist -> ../elsewhere, a directory of the user's that happens to hold a synth marker (a copied output)
    const base = tempDir('k6-synth-');
    const elsewhere = path.join(base, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(path.join(elsewhere, OUTPUT_MARKER), 'copied');
    writeFileSync(path.join(elsewhere, 'notes.txt'), 'mine');
    mkdirSync(path.join(base, 'repo'));
    const out = path.join(base, 'repo', 'dist');
    symlinkSync('../elsewhere', out, 'dir');
    // WHEN / THEN
    expect(() => synthesize({ rootDir: repoRoot, outDir: out, environments: ['dev'] })).toThrow(
      `synth: refusing to replace ${out}: it is a link to ${elsewhere}, which is not a synth output version beside it.`,
    );
    expect(readlinkSync(out)).toBe('../elsewhere');
    expect(readdirSync(elsewhere).sort()).toEqual([OUTPUT_MARKER, 'notes.txt'].sort());
  });

  test('an output whose parent folders do not exist yet is created with them', () => {
    // GIVEN
    const out = path.join(tempDir('k6-synth-'), 'a', 'b', 'dist');
    // WHEN
    synthesize({ rootDir: repoRoot, outDir: out, environments: ['dev'] });
    // THEN
    expect(readdirSync(out)).toContain('dev');
  });

  test('an environment name that is not a DNS label is refused before anything is read or written', () => {
    // GIVEN
    const out = path.join(tempDir('k6-synth-'), 'dist');
    // WHEN / THEN
    expect(() => synthesize({ rootDir: repoRoot, outDir: out, environments: ['dev', 'x/../../y'] })).toThrow(
      'synth: "x/../../y" is not an environment name: lower-case letters, digits and "-", at most 63 characters, such as "dev"',
    );
    expect(existsSync(out)).toBe(false);
  });

  test('is a link to a complete version with a marker; the next synth switches the link and removes the old version', () => {
    // GIVEN
    const out = path.join(tempDir('k6-synth-'), 'dist');
    synthesize({ rootDir: repoRoot, outDir: out, environments: ['dev'] });
    const first = readlinkSync(out);
    // WHEN
    synthesize({ rootDir: repoRoot, outDir: out, environments: ['dev'] });
    // THEN
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
    expect(readlinkSync(out)).not.toBe(first);
    expect(readdirSync(path.dirname(out)).sort()).toEqual([readlinkSync(out), 'dist'].sort());
    expect(readdirSync(out)).toContain(OUTPUT_MARKER);
  });

  test('a partial build replaces only its environments and keeps the others as they were', () => {
    // GIVEN every environment synthesized, then dev changed
    const root = repoCopy();
    const out = path.join(root, 'dist');
    synthesize({ rootDir: root, outDir: out });
    const before = readTree(out);
    writeFileSync(path.join(root, 'Pulumi.dev.yaml'), 'config:\n  k6platform:runner:\n    pushInterval: 7s\n');
    // WHEN only dev is rebuilt
    synthesize({ rootDir: root, outDir: out, environments: ['dev'] });
    // THEN
    const after = readTree(out);
    const others = (tree: Map<string, string>) => [...tree].filter(([f]) => !f.startsWith('dev/') && !f.startsWith('chart/'));
    expect(others(after)).toEqual(others(before));
    expect(others(after).some(([f]) => f.startsWith('prod/'))).toBe(true);
    expect([...after].filter(([f, c]) => f.startsWith('dev/') && c.includes('7s')).length).toBeGreaterThan(0);
    // AND the Helm chart still serves every environment: the kept ones from their folders, exactly as a full synth
    const full = path.join(root, 'dist-full');
    synthesize({ rootDir: root, outDir: full });
    const chartOf = (tree: Map<string, string>) => [...tree].filter(([f]) => f.startsWith('chart/'));
    expect(chartOf(after).map(([f]) => f)).toContain('chart/values-prod.yaml');
    expect(chartOf(after)).toEqual(chartOf(readTree(full)));
  });

  test.each([
    [
      'a directory of other files',
      (d: string) => writeFileSync(path.join(d, 'README.md'), 'mine'),
      /it is a directory with 1 entry \(README\.md\) and no synth marker/,
    ],
    ['a file', undefined, /it is a file/],
  ])('refuses %s and deletes nothing', (_what, fill, reason) => {
    // GIVEN
    const parent = tempDir('k6-out-');
    const out = path.join(parent, 'target');
    if (fill) {
      mkdirSync(out);
      fill(out);
    } else writeFileSync(out, 'mine');
    const before = readTree(parent);
    // WHEN
    const run = () => synthesize({ rootDir: repoRoot, outDir: out, environments: ['dev'] });
    // THEN
    expect(run).toThrow(
      `synth: refusing to replace ${out}: ${reason.source.replace(/\\/g, '')}. Synth replaces only its own output (a directory holding ${OUTPUT_MARKER}); choose a new or empty directory with --out`,
    );
    expect(readTree(parent)).toEqual(before);
  });

  test('takes over an output of the previous synth (a plain directory of environments)', () => {
    // GIVEN dist/ as the previous synth wrote it: a plain directory, no marker
    const out = path.join(tempDir('k6-synth-'), 'dist');
    synthesize({ rootDir: repoRoot, outDir: out, environments: ['dev'] });
    const plain = `${out}-plain`;
    cpSync(out, plain, { recursive: true, dereference: true });
    toPreviousLayout(plain);
    rmSync(path.join(path.dirname(out), readlinkSync(out)), { recursive: true });
    rmSync(out);
    renameSync(plain, out);
    // WHEN
    synthesize({ rootDir: repoRoot, outDir: out, environments: ['dev'] });
    // THEN
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
    expect(readdirSync(path.dirname(out)).sort()).toEqual([readlinkSync(out), 'dist'].sort());
  });
});

const withoutCdk8sOutdir = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'CDK8S_OUTDIR'));

describe('a synth killed at any step leaves a complete output', () => {
  /**
   * Runs the cdk8s app for dev in `root` as cdk8s.yaml does (the launcher constructs/bin/synth.js, which runs
   * constructs/main.ts from the copy's own bundle, built on the first run), killed right after step `n` (0: not killed).
   */
  const runApp = (root: string, n: number) =>
    spawnSync(process.execPath, ['constructs/bin/synth.js'], {
      cwd: root,
      env: { ...withoutCdk8sOutdir(process.env), K6_PLATFORM_ENVS: 'dev', [KILL_AFTER_STEP_ENV]: String(n) },
      encoding: 'utf8',
    });
  const OLD = 'config:\n  k6platform:runner:\n    pushInterval: 5s\n';
  const NEW = 'config:\n  k6platform:runner:\n    pushInterval: 9s\n';

  test.each([
    ['an output that is a link (every synth after the first)', false],
    ['a plain directory from the previous synth', true],
  ])(
    '%s',
    (_what, plainBefore) => {
      // GIVEN the complete old and new outputs
      const root = repoCopy();
      const out = path.join(root, 'dist');
      const newTree = (() => {
        writeFileSync(path.join(root, 'Pulumi.dev.yaml'), NEW);
        const d = path.join(tempDir('k6-synth-'), 'dist');
        synthesize({ rootDir: root, outDir: d, environments: ['dev'] });
        return readTree(d);
      })();
      const same = (a: Map<string, string>, b: Map<string, string>) => JSON.stringify([...a]) === JSON.stringify([...b]);
      const newer = new Map(newTree);
      newer.delete(OUTPUT_MARKER);
      const seen: string[] = [];
      const leftovers: string[][] = [];
      for (let n = 1; n < 20; n++) {
        // GIVEN the old output in place (also cleaning up after the previous kill)
        writeFileSync(path.join(root, 'Pulumi.dev.yaml'), OLD);
        synthesize({ rootDir: root, outDir: out, environments: ['dev'] });
        leftovers.push(readdirSync(root).filter((e) => e.startsWith('.dist.') && e !== readlinkSync(out)));
        if (plainBefore) {
          const version = path.join(root, readlinkSync(out));
          rmSync(out);
          renameSync(version, out);
          toPreviousLayout(out);
        }
        const oldTree = readTree(out);
        oldTree.delete(OUTPUT_MARKER);
        writeFileSync(path.join(root, 'Pulumi.dev.yaml'), NEW);
        // WHEN the app is killed right after step n
        const r = runApp(root, n);
        if (r.status === 0) break;
        const killed = r.signal === 'SIGKILL' || r.status === 137;
        // THEN the output is the old one or the new one, complete (a plain one moved aside comes back on the next run)
        const tree = readTree(out);
        tree.delete(OUTPUT_MARKER);
        const state = !existsSync(out)
          ? `missing, then ${runApp(root, 0).status === 0 && same(readTree(out), newTree) ? 'restored' : 'lost'}`
          : same(tree, oldTree)
            ? 'old'
            : same(tree, newer)
              ? 'new'
              : 'partial';
        seen.push(killed ? state : `not killed (${r.status}): ${r.stderr}`);
      }
      // THEN every step was hit, the old output stays until the switch, the new one after
      expect(seen.join(', ')).toMatch(plainBefore ? /^(old, )+missing, then restored, new(, new)*$/ : /^(old, )+new(, new)*$/);
      expect(leftovers.flat()).toEqual([]);
      // and a normal run leaves no leftovers
      expect(readdirSync(root).filter((e) => e.startsWith('.dist.'))).toEqual([readlinkSync(out)]);
    },
    300_000,
  );
});

describe('npx cdk8s synth (the README command)', () => {
  const cdk8s = path.join(repoRoot, 'node_modules', '.bin', 'cdk8s');
  const env = { ...process.env, CDK8S_CHECK_UPGRADE: 'false' };

  test('writes dist/ and says where; a failing run leaves dist/ as it was', () => {
    // GIVEN
    const root = repoCopy();
    // WHEN
    const ok = spawnSync(cdk8s, ['synth', '--no-check-upgrade'], { cwd: root, env, encoding: 'utf8' });
    // THEN
    expect(ok.status).toBe(0);
    expect(ok.stderr).toMatch(/^dev: \d+ objects -> dist\/dev\/ \(/m);
    expect(ok.stderr).toMatch(/^chart: dist\/chart\/ \(one Helm chart, values-<env>\.yaml for each environment\)$/m);
    expect(ok.stderr).toMatch(
      /^dev: \d+ objects -> dist\/dev\/ \(platform\/: 0000-namespaces\.k8s\.yaml, .*, kube-prometheus-stack\.values\.yaml; runs\/: .*sample\.k8s\.yaml/m,
    );
    expect(readdirSync(path.join(root, 'dist', 'dev', 'platform'))).toEqual(expect.arrayContaining(['kube-prometheus-stack.values.yaml']));
    const before = readTree(path.join(root, 'dist'));

    // GIVEN a broken environment
    writeFileSync(path.join(root, 'Pulumi.qa.yaml'), 'config:\n  k6platform:environmnet: qa\n');
    // WHEN
    const bad = spawnSync(cdk8s, ['synth', '--no-check-upgrade'], { cwd: root, env, encoding: 'utf8' });
    // THEN
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(
      "synth failed; dist/ left as it was.\nInvalid Pulumi.qa.yaml (1 problem):\n  - 'k6platform:environmnet' is not a known setting",
    );
    expect(readTree(path.join(root, 'dist'))).toEqual(before);
  });

  test('runs offline: no network needed (upgrade check off, no chart download)', () => {
    const root = repoCopy();
    // unshare -n gives the process no network at all (root in CI); the synth must still succeed
    const run = spawnSync('unshare', ['-n', cdk8s, 'synth', '--no-check-upgrade'], { cwd: root, env, encoding: 'utf8' });
    expect(run.stderr).toMatch(/^dev: \d+ objects -> dist\/dev\//m);
    expect(run.status).toBe(0);
  });
});
