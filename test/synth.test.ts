/**
 * `cdk8s synth` end to end: every environment, deterministic, atomic, labelled, and schema-valid.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { discoverEnvironments, GENERATED_HEADER, synthesize } from '../constructs/src/synth';
import { parseYamlStream, validateManifests, type Manifest } from './support/schemas';
import { readTree } from './support/files';

const repoRoot = path.resolve(__dirname, '..');
const temps: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** All Kubernetes objects of one synthesized environment. */
function objectsOf(envDir: string): Manifest[] {
  return readdirSync(envDir)
    .filter((f) => f.endsWith('.k8s.yaml'))
    .flatMap((f) => parseYamlStream(readFileSync(path.join(envDir, f), 'utf8')));
}

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
      expect(readdirSync(path.join(outDir, env))).toEqual(expect.arrayContaining(['kube-prometheus-stack.values.yaml']));
      expect(objectsOf(path.join(outDir, env)).length).toBe(results.get(env)!.objectCount);
    }
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
    const text = readFileSync(path.join(outDir, 'dev', 'kube-prometheus-stack.values.yaml'), 'utf8');
    expect(text.startsWith(GENERATED_HEADER)).toBe(true);
    expect(text).toMatch(/enableRemoteWriteReceiver: true/);
    expect(text).toMatch(/enableFeatures:\n\s+- native-histograms/);
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
    expect(run).toThrow(/TestScripts: 'script' gone\.js not found/);
    expect(readTree(outDir)).toEqual(before);
    expect(readdirSync(path.dirname(outDir))).toEqual(['dist']);
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
    expect(readdirSync(path.join(root, 'dist', 'dev'))).toEqual(expect.arrayContaining(['kube-prometheus-stack.values.yaml']));
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
