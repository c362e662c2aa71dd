import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { parsePlatformConfig, PlatformConfigError, type PlatformConfigInput } from '../src/config/platform-config';
import { buildPlatform } from '../src/platform/platform';
import { CONFIG_MAP_LIMIT_BYTES } from '../src/load-test/test-scripts';
import { restrictedProfileViolations } from '../../test/support/pod-security';
import { validateManifests, type Manifest } from '../../test/support/schemas';
import { writeLargeFileBundle } from '../../test/support/large-bundle';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function newDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'k6-data-image-'));
  dirs.push(dir);
  return dir;
}
const scriptsDir = newDir();
const har = writeLargeFileBundle(scriptsDir);
const RUNNER = { registry: 'registry.example.com', repository: 'team/k6', pushSecret: { name: 'registry-push' } };

function build(input: PlatformConfigInput) {
  return buildPlatform(Testing.app(), { config: parsePlatformConfig(input), scriptsDir });
}
const imageTest = { name: 'har', script: 'har.js', data: { mode: 'image' as const } };

describe('data.mode image', () => {
  const charts = build({ runner: RUNNER, tests: [imageTest] });
  const buildObjs = charts.runnerImageBuild!.toJson() as Obj[];
  const runObjs = charts.loadTests.toJson() as Obj[];
  const dataImage = buildObjs.find((o) => o.kind === 'Job')!.metadata.annotations['k6.platform/image'] as string;

  test('a content-addressed data image is built in a chart the load tests depend on, and the runners copy from it', () => {
    // THEN the reference: <registry>/<repository>-data:<test>-<hash>
    expect(dataImage).toMatch(/^registry\.example\.com\/team\/k6-data:har-[0-9a-f]{12}$/);
    expect(charts.loadTests.node.dependencies).toContain(charts.runnerImageBuild);
    const job = runObjs.find((o) => o.kind === 'Job' && o.metadata.name.endsWith('-runner'))!;
    expect(job.spec.template.spec.initContainers.map((c: Obj) => c.image)).toEqual([dataImage]);
    // the same content gives the same tag; the build Job is named by its spec
    const again = build({ runner: RUNNER, tests: [imageTest] }).runnerImageBuild!.toJson() as Obj[];
    expect(again.map((o) => o.metadata.name)).toEqual(buildObjs.map((o) => o.metadata.name));
    expect(buildObjs.map((o) => `${o.kind}/${o.metadata.name.replace(/[0-9a-f]{12}$/, '<hash>')}`)).toEqual([
      'Namespace/k6-build',
      'ServiceAccount/k6-runner-build',
      'NetworkPolicy/k6-runner-build',
      'ConfigMap/k6-data-context-<hash>',
      ...Array.from({ length: 5 }, () => 'ConfigMap/k6-data-har-<hash>'),
      'Job/k6-data-build-<hash>',
    ]);
  });

  test('the build context: chunks in immutable ConfigMaps under 1 MiB, joined again byte-exact by the real script', () => {
    // GIVEN the build pod's projected context written out as the kubelet would
    const job = buildObjs.find((o) => o.kind === 'Job')!;
    const pod = job.spec.template.spec;
    const source = (pod.volumes as Obj[]).find((v) => v.name === 'context-src')!;
    const root = newDir();
    const [ctxDir, workspace] = [path.join(root, 'context-src'), path.join(root, 'workspace')];
    for (const s of source.projected.sources as Obj[]) {
      const cm = buildObjs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === s.configMap.name)!;
      expect(cm.immutable).toBe(true);
      expect(Buffer.byteLength(JSON.stringify(cm))).toBeLessThan(CONFIG_MAP_LIMIT_BYTES);
      for (const item of s.configMap.items as { key: string; path: string }[]) {
        mkdirSync(path.dirname(path.join(ctxDir, item.path)), { recursive: true });
        const text = cm.data?.[item.key] as string | undefined;
        writeFileSync(path.join(ctxDir, item.path), text !== undefined ? text : Buffer.from(cm.binaryData[item.key] as string, 'base64'));
      }
    }
    mkdirSync(workspace);
    // WHEN the init container's own script runs (its paths moved to the temporary directories)
    const init = pod.initContainers[0] as Obj;
    expect(init.command.slice(0, 2)).toEqual(['sh', '-c']);
    const script = (init.command[2] as string).replaceAll('/context-src', ctxDir).replaceAll('/workspace', workspace);
    const ran = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
    // THEN the checksum passed and the file is the original, the Dockerfile copies it under /k6-data
    expect(ran.stderr).toBe('');
    expect(ran.status).toBe(0);
    expect(readFileSync(path.join(workspace, 'data', 'data', 'recording.har')).equals(har.files.get('data/recording.har')!)).toBe(true);
    expect(readFileSync(path.join(workspace, 'Dockerfile'), 'utf8')).toContain('\nFROM grafana/k6:1.7.1\nCOPY data/ /k6-data/\n');
    // and a corrupted chunk fails the build before BuildKit runs
    const chunk = path.join(ctxDir, 'parts', 'data__recording.har.001');
    writeFileSync(chunk, Buffer.concat([Buffer.from('!'), readFileSync(chunk).subarray(1)]));
    expect(spawnSync('sh', ['-c', script], { encoding: 'utf8' }).status).not.toBe(0);
  });

  test('every object is schema-valid; the runs stay restricted', () => {
    expect(validateManifests([...buildObjs, ...runObjs] as Manifest[])).toEqual([]);
    expect(restrictedProfileViolations(runObjs)).toEqual([]);
  });

  test('beside a runner image built with extensions: one ServiceAccount and NetworkPolicy, the data image FROM the pinned k6', () => {
    // WHEN
    const both = build({ runner: { ...RUNNER, extensions: [{ module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' }] }, tests: [imageTest] });
    const objs = both.runnerImageBuild!.toJson() as Obj[];
    // THEN
    const names = objs.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => n.startsWith('ServiceAccount/') || n.startsWith('NetworkPolicy/'))).toEqual([
      'ServiceAccount/k6-runner-build',
      'NetworkPolicy/k6-runner-build',
    ]);
    expect(objs.filter((o) => o.kind === 'Job').map((o) => o.metadata.name.replace(/[0-9a-f]{12}$/, '<hash>'))).toEqual([
      'k6-runner-build-<hash>',
      'k6-data-build-<hash>',
    ]);
    const dataContext = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('k6-data-context-'))!;
    expect(dataContext.data.Dockerfile).toContain('\nFROM grafana/k6:1.7.1\n');
    expect(validateManifests(objs as Manifest[])).toEqual([]);
  });

  test('without registry, repository and push Secret, or with a local build: one error per test naming the fields', () => {
    const problems = (input: PlatformConfigInput) => {
      try {
        build(input);
      } catch (e) {
        if (e instanceof PlatformConfigError) return e.problems;
        throw e;
      }
      throw new Error('built');
    };
    expect(problems({ tests: [imageTest] })).toEqual([
      "'tests[0].data.mode' image needs 'runner.registry', 'runner.repository', 'runner.pushSecret': where the data image is pushed and with which credentials",
    ]);
    expect(problems({ runner: { ...RUNNER, build: 'local' }, tests: [imageTest] })).toEqual([
      `'tests[0].data.mode' image needs 'runner.build' "in-cluster", got "local" (data images are built in the cluster)`,
    ]);
  });
});
