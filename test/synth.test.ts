/**
 * `cdk8s synth` end to end: every environment, deterministic, atomic, labelled, and schema-valid.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { discoverEnvironments, GENERATED_HEADER, loadEnvironmentConfig, synthesize } from '../constructs/src/synth';
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
