import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { bundleScripts, CONFIG_MAP_LIMIT_BYTES, localReferences, TestScripts } from '../src/test-scripts';

const repoScripts = path.join(__dirname, '..', '..', 'scripts');

/** A scripts directory built from a map of relative path -> content. */
function scriptsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'k6-scripts-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  dirs.push(dir);
  return dir;
}
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('TestScripts', () => {
  test('defaults: the sample and the module it imports, in one immutable content-hashed ConfigMap', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const scripts = new TestScripts(chart, 'Scripts', { testName: 'sample', entry: 'sample.js', scriptsDir: repoScripts });
    const [cm] = Testing.synth(chart);
    // THEN
    expect(cm.kind).toBe('ConfigMap');
    expect(cm.immutable).toBe(true);
    expect(cm.metadata.name).toBe(`k6-sample-${scripts.hash}`);
    expect(scripts.hash).toMatch(/^[0-9a-f]{12}$/);
    expect(Object.keys(cm.data).sort()).toEqual(['lib__target.js', 'sample.js']);
    expect(cm.metadata.labels).toEqual({ 'app.kubernetes.io/component': 'test-script', 'k6.platform/test': 'sample' });
    expect(cm.metadata.annotations).toEqual({ 'k6.platform/entry': 'sample.js' });
    expect(scripts.entryPath).toBe('/scripts/sample.js');
    expect(scripts.volumeItems).toEqual({ 'sample.js': { path: 'sample.js' }, 'lib__target.js': { path: 'lib/target.js' } });
    expect(cm.data['sample.js']).toContain("{ duration: '30s', target: 200 }");
  });

  test('the sample script is the one from the write-up: ramp to 200 VUs and back over 30s each, GET, check 200', () => {
    const [entry] = bundleScripts(repoScripts, 'sample.js');
    expect(entry!.content).toMatch(/stages: \[\s*\{ duration: '30s', target: 200 \},\s*\{ duration: '30s', target: 0 \},\s*\]/);
    expect(entry!.content).toMatch(/http\.get\(targetUrl\(\)\)/);
    expect(entry!.content).toMatch(/check\(res, \{ 'status is 200': \(r\) => r\.status === 200 \}\)/);
  });

  test('same content gives the same name; any edit gives a new one', () => {
    // GIVEN
    const a = scriptsDir({ 'main.js': "import './lib/x.js';", 'lib/x.js': 'export const x = 1;' });
    const b = scriptsDir({ 'main.js': "import './lib/x.js';", 'lib/x.js': 'export const x = 1;' });
    const c = scriptsDir({ 'main.js': "import './lib/x.js';", 'lib/x.js': 'export const x = 2;' });
    const hash = (dir: string) => new TestScripts(Testing.chart(), 'S', { testName: 't', entry: 'main.js', scriptsDir: dir }).hash;
    // THEN
    expect(hash(a)).toBe(hash(b));
    expect(hash(a)).not.toBe(hash(c));
  });

  test('bundles transitive, dynamic, re-exported, required and open()ed local files; leaves k6 and remote modules to k6', () => {
    // GIVEN
    const dir = scriptsDir({
      'main.ts': [
        "import http from 'k6/http';",
        "import { a } from './a.ts';",
        "import type { T } from './types.ts';",
        "import { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';",
        "const data = open('./data/users.json');",
        'export default async function () { await import("./lazy.js"); }',
      ].join('\n'),
      'a.ts': "export * from './nested/b.js'; export const a: number = 1;",
      'nested/b.js': "const c = require('../c.js'); export const b = c;",
      'c.js': 'module.exports = 1;',
      'lazy.js': 'export {};',
      'types.ts': 'export type T = string;',
      'data/users.json': '[]',
    });
    // WHEN
    const files = bundleScripts(dir, 'main.ts').map((f) => [f.path, f.key]);
    // THEN
    expect(files).toEqual([
      ['main.ts', 'main.ts'],
      ['a.ts', 'a.ts'],
      ['nested/b.js', 'nested__b.js'],
      ['c.js', 'c.js'],
      ['data/users.json', 'data__users.json'],
      ['lazy.js', 'lazy.js'],
    ]);
  });

  test('localReferences ignores type-only imports and non-relative specifiers', () => {
    expect(localReferences("import type { A } from './a.js'; import b from 'k6'; import c from '/abs.js';", 'x.ts')).toEqual([]);
  });

  describe('bad input', () => {
    test('missing entry file', () => {
      const dir = scriptsDir({ 'main.js': '' });
      expect(() => bundleScripts(dir, 'nope.js')).toThrow(
        `TestScripts: 'script' nope.js not found in ${dir} (looked for ${path.join(dir, 'nope.js')})`,
      );
    });

    test('entry outside the scripts directory', () => {
      const dir = scriptsDir({ 'main.js': '' });
      expect(() => bundleScripts(dir, '../etc/passwd')).toThrow(
        `TestScripts: 'script' ../etc/passwd is outside the scripts directory ${dir}; scripts must live under it`,
      );
    });

    test('an import that escapes scripts/', () => {
      const dir = scriptsDir({ 'main.js': "import '../secrets.js';" });
      expect(() => bundleScripts(dir, 'main.js')).toThrow(
        `TestScripts: 'main.js' imports "../secrets.js", which escapes the scripts directory ${dir}`,
      );
    });

    test('a symlink that escapes scripts/', () => {
      const outside = scriptsDir({ 'secret.js': 'export const s = 1;' });
      const dir = scriptsDir({ 'main.js': "import './link.js';" });
      symlinkSync(path.join(outside, 'secret.js'), path.join(dir, 'link.js'));
      expect(() => bundleScripts(dir, 'main.js')).toThrow(
        `TestScripts: 'main.js' imports link.js, which resolves outside the scripts directory ${dir}`,
      );
    });

    test('an import of a missing module', () => {
      const dir = scriptsDir({ 'main.js': "import { x } from './lib/missing.js';" });
      expect(() => bundleScripts(dir, 'main.js')).toThrow(
        `TestScripts: 'main.js' imports "./lib/missing.js", which does not exist (looked for ${path.join(dir, 'lib', 'missing.js')})`,
      );
    });

    test('a file name that cannot be a ConfigMap key', () => {
      const dir = scriptsDir({ 'main.js': "import './my lib.js';", 'my lib.js': '' });
      expect(() => bundleScripts(dir, 'main.js')).toThrow(
        `TestScripts: file 'my lib.js' cannot be a ConfigMap key ("my lib.js"); file and folder names may only use letters, digits, "-", "_" and "."`,
      );
    });

    test('two files mapping to the same key', () => {
      const dir = scriptsDir({ 'main.js': "import './a/b.js'; import './a__b.js';", 'a/b.js': '', 'a__b.js': '' });
      expect(() => bundleScripts(dir, 'main.js')).toThrow(
        `TestScripts: files 'a/b.js' and 'a__b.js' map to the same ConfigMap key "a__b.js"; rename one`,
      );
    });

    test('a bundle over the 1 MiB ConfigMap limit names the size and the limit', () => {
      // GIVEN
      const dir = scriptsDir({ 'main.js': "const d = open('./big.json');", 'big.json': 'x'.repeat(CONFIG_MAP_LIMIT_BYTES) });
      // WHEN
      const make = () => new TestScripts(Testing.chart(), 'S', { testName: 't', entry: 'main.js', scriptsDir: dir });
      // THEN
      expect(make).toThrow(
        `TestScripts: 'script' main.js bundles 2 files of ${CONFIG_MAP_LIMIT_BYTES + 44} bytes, over the ConfigMap limit of 1048576 bytes (1 MiB); move large data out of the bundle (e.g. fetch it from a URL in setup())`,
      );
    });
  });
});
