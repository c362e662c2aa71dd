import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import {
  bundleScripts,
  bundleScriptTree,
  CONFIG_MAP_BUDGET_BYTES,
  CONFIG_MAP_LIMIT_BYTES,
  localReferences,
  TestScripts,
} from '../src/load-test/test-scripts';

const repoScripts = path.join(__dirname, '..', '..', 'scripts');

/** A scripts directory built from a map of relative path -> content. */
function scriptsDir(files: Record<string, string | Buffer>): string {
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

  describe('real k6 scripts', () => {
    const make = (dir: string, entry = 'main.js') => {
      const chart = Testing.chart();
      const scripts = new TestScripts(chart, 'S', { testName: 't', entry, scriptsDir: dir });
      return { scripts, cm: Testing.synth(chart)[0]! };
    };

    test("a binary file read with open(path, 'b') round-trips byte-exact through binaryData, counted in size, hash and volume items", () => {
      // GIVEN 2048 random bytes (not valid UTF-8), as an upload test would post them
      const bytes = randomBytes(2048);
      bytes[0] = 0xff; // never valid UTF-8, whatever the random bytes are
      const dir = scriptsDir({
        'main.js': [
          "import http from 'k6/http';",
          "const img = open('./fixtures/cat.jpg', 'b');",
          "export default function () { http.post('https://test.k6.io/upload', { file: http.file(img, 'cat.jpg') }); }",
        ].join('\n'),
        'fixtures/cat.jpg': bytes,
      });
      // WHEN
      const { scripts, cm } = make(dir);
      // THEN the bytes are in binaryData (base64), not in data
      expect(Object.keys(cm.data)).toEqual(['main.js']);
      expect(Object.keys(cm.binaryData)).toEqual(['fixtures__cat.jpg']);
      expect(Buffer.from(cm.binaryData['fixtures__cat.jpg'], 'base64').equals(bytes)).toBe(true);
      expect(scripts.files[1]).toMatchObject({ path: 'fixtures/cat.jpg', binary: true, sizeBytes: 2048 });
      // Volume items name data and binaryData keys alike: the runner sees /scripts/fixtures/cat.jpg.
      expect(scripts.volumeItems['fixtures__cat.jpg']).toEqual({ path: 'fixtures/cat.jpg' });
      // Raw bytes (not base64, not UTF-8-mangled) count against the limit.
      expect(scripts.sizeBytes).toBe('main.js'.length + scripts.files[0]!.sizeBytes + 'fixtures__cat.jpg'.length + 2048);
      // Any byte changed gives a new ConfigMap name.
      const edited = Buffer.from(bytes);
      edited[2047] = edited[2047]! ^ 1;
      const dir2 = scriptsDir({ 'main.js': scripts.files[0]!.content, 'fixtures/cat.jpg': edited });
      expect(make(dir2).scripts.hash).not.toBe(scripts.hash);
    });

    test('a UTF-8 text file stays in data, a byte-order mark included', () => {
      const dir = scriptsDir({ 'main.js': "const d = open('./d.csv');", 'd.csv': Buffer.from('\ufeffname,ü\n', 'utf8') });
      const { cm } = make(dir);
      expect(cm.binaryData).toBeUndefined();
      expect(Buffer.from(cm.data['d.csv'], 'utf8').equals(Buffer.from('\ufeffname,ü\n', 'utf8'))).toBe(true);
    });

    test("open('data.csv') without './', file:// and import.meta.resolve() resolve relative to the file that calls open()", () => {
      // GIVEN open() at the top level of the entry and of an imported module: k6 resolves a relative path against the
      // module being evaluated (js/modules/require_impl.go CurrentlyRequiredModule, internal/js/initcontext.go
      // openImpl + lib/fsext/filepath.go Abs, k6 v1.7.1), so a bare 'users.json' in lib/ is lib/users.json.
      const dir = scriptsDir({
        'main.js': [
          "import { SharedArray } from 'k6/data';",
          "import { users } from './lib/users.js';",
          "const rows = open('data.csv');",
          "const cfg = open('file://config/env.json');",
          "const tpl = open(import.meta.resolve('./templates/body.json'));",
          'export default function () {}',
        ].join('\n'),
        'lib/users.js': "import { SharedArray } from 'k6/data';\nexport const users = new SharedArray('u', () => JSON.parse(open('users.json')));",
        'lib/users.json': '[]',
        'data.csv': 'a,b',
        'config/env.json': '{}',
        'templates/body.json': '{}',
      });
      // WHEN
      const paths = bundleScripts(dir, 'main.js').map((f) => f.path);
      // THEN
      expect(paths).toEqual(['main.js', 'lib/users.js', 'lib/users.json', 'data.csv', 'config/env.json', 'templates/body.json']);
    });

    test('open() inside a function of an imported module: bundled where it exists, relative to the module or to the entry', () => {
      // A helper called from the entry's init code resolves against the entry (the bottom of the call stack), one
      // called from its own module's init code against that module; k6 v1.7.1 warns about the difference.
      const dir = scriptsDir({
        'main.js': "import { load } from './lib/load.js';\nconst users = load();",
        'lib/load.js': "export function load() { return JSON.parse(open('data/users.json')); }",
        'data/users.json': '[]',
      });
      expect(bundleScripts(dir, 'main.js').map((f) => f.path)).toEqual(['main.js', 'lib/load.js', 'data/users.json']);
    });

    test('a module open()ed as text before it is imported is still scanned for its own imports', () => {
      const dir = scriptsDir({
        'main.js': "const src = open('./lib/a.js');\nimport './lib/a.js';",
        'lib/a.js': "const rows = open('./rows.csv');",
        'lib/rows.csv': 'a',
      });
      expect(bundleScripts(dir, 'main.js').map((f) => f.path)).toEqual(['main.js', 'lib/a.js', 'lib/rows.csv']);
    });

    test('open() of k6/experimental/fs resolves relative to the entry script, from any module', () => {
      // GIVEN internal/js/modules/k6/experimental/fs/module.go openImpl (k6 v1.7.1): fsext.Abs(initEnv.CWD.Path, path),
      // CWD being the entry script's directory.
      const dir = scriptsDir({
        'tests/main.js': "import { readChunk } from '../lib/io.js';\nexport default async function () { await readChunk(); }",
        'lib/io.js': [
          "import { open as openFile, SeekMode } from 'k6/experimental/fs';",
          "import * as fs from 'k6/experimental/fs';",
          "const file = await openFile('payloads/big.bin');",
          "const other = await fs.open('./payloads/small.txt');",
          'export async function readChunk() { const buf = new Uint8Array(4); await file.seek(0, SeekMode.Start); return file.read(buf); }',
        ].join('\n'),
        'tests/payloads/big.bin': Buffer.from([0, 159, 146, 150]),
        'tests/payloads/small.txt': 'x',
      });
      // WHEN
      const files = bundleScripts(dir, 'tests/main.js');
      // THEN
      expect(files.map((f) => [f.path, f.binary])).toEqual([
        ['tests/main.js', false],
        ['lib/io.js', false],
        ['tests/payloads/big.bin', true],
        ['tests/payloads/small.txt', false],
      ]);
    });

    test('gRPC client.load(importPaths, ...files) bundles the listed protos and the protos they import; loadProtoset() its file', () => {
      // GIVEN internal/js/modules/k6/grpc/client.go Load (k6 v1.7.1): import paths default to the entry's directory and
      // are relative to it (InitEnvironment.GetAbsFilePath, js/common/initenv.go); each file and each proto import is
      // looked up in the import paths in order (protocompile SourceResolver.FindFileByPath), google/protobuf/* is built in.
      const dir = scriptsDir({
        'main.js': [
          "import grpc from 'k6/net/grpc';",
          'const client = new grpc.Client();',
          "client.load(['definitions', '../shared/protos'], 'hello.proto');",
          "const other = new grpc.Client();\nother.load([], 'direct.proto');",
          "const third = new grpc.Client();\nthird.loadProtoset('sets/route.protoset');",
          'export default () => {};',
        ].join('\n'),
        'definitions/hello.proto': [
          'syntax = "proto3";',
          '// import "commented/out.proto";',
          'import "common/types.proto";',
          'import public "google/protobuf/timestamp.proto";',
          'package hello;',
          'service Greeter { rpc SayHello (common.Name) returns (common.Name); }',
        ].join('\n'),
        'definitions/common/types.proto': 'syntax = "proto3";\npackage common;\nmessage Name { string v = 1; }',
        'direct.proto': 'syntax = "proto3";',
        'sets/route.protoset': Buffer.from([0x0a, 0xff, 0xfe]),
      });
      // WHEN
      const paths = bundleScripts(dir, 'main.js').map((f) => f.path);
      // THEN
      expect(paths).toEqual(['main.js', 'definitions/hello.proto', 'definitions/common/types.proto', 'direct.proto', 'sets/route.protoset']);
    });

    test('a missing proto import names the load() call and where it looked', () => {
      const dir = scriptsDir({
        'main.js': "import { Client } from 'k6/net/grpc';\nconst c = new Client();\nc.load(['protos'], 'svc.proto');",
        'protos/svc.proto': 'syntax = "proto3";\nimport "missing/dep.proto";',
      });
      expect(() => bundleScripts(dir, 'main.js')).toThrow(
        `TestScripts: 'protos/svc.proto' line 3 loads the proto "missing/dep.proto", which does not exist (looked for ${path.join(dir, 'protos', 'missing', 'dep.proto')})`,
      );
    });

    test('an open() with a computed path fails the synth, naming the file and line', () => {
      // GIVEN a path only known at run time: the file cannot be put into the bundle
      const dir = scriptsDir({
        'main.js': "import './lib/data.js';",
        'lib/data.js': '// data per environment\nconst name = __ENV.DATA_SET;\nexport const rows = open(`./data/${name}.csv`);',
      });
      // THEN
      expect(() => bundleScripts(dir, 'main.js')).toThrow(
        "TestScripts: 'lib/data.js' line 3: open() with a computed path cannot be bundled (the file is only known at run time); pass a string literal such as open('./data.csv') or open(import.meta.resolve('./data.csv')) (a helper taking a path can take the opened content instead: parse(open('./data.csv')))",
      );
    });

    test('an open() of a missing file names the file, the line and the path looked for', () => {
      const dir = scriptsDir({ 'main.js': "\nconst d = open('users.csv');" });
      expect(() => bundleScripts(dir, 'main.js')).toThrow(
        `TestScripts: 'main.js' line 2 opens "users.csv" with open(), which does not exist (looked for ${path.join(dir, 'users.csv')})`,
      );
    });

    test('an absolute open() path is not bundled and gives a warning', () => {
      const dir = scriptsDir({ 'main.js': "const ca = open('/etc/ssl/certs/ca.pem');" });
      const bundle = bundleScriptTree(dir, 'main.js');
      expect(bundle.files.map((f) => f.path)).toEqual(['main.js']);
      expect(bundle.warnings).toEqual([
        `TestScripts: 'main.js' line 1: open() of the absolute path "/etc/ssl/certs/ca.pem" is not bundled; it must exist in the runner image`,
      ]);
    });

    test('lists the k6 modules and remote modules every bundled file imports, with file and line', () => {
      // GIVEN
      const dir = scriptsDir({
        'main.js': [
          "import http from 'k6/http';",
          "import { faker } from './lib/gen.js';",
          "import { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';",
          'export default function () {}',
        ].join('\n'),
        'lib/gen.js': "import faker from 'k6/x/faker';\nconst exec = require('k6/execution');\nexport { faker };",
      });
      // WHEN
      const chart = Testing.chart();
      const scripts = new TestScripts(chart, 'S', { testName: 't', entry: 'main.js', scriptsDir: dir });
      // THEN
      expect(scripts.modules).toEqual([
        { module: 'k6/http', file: 'main.js', line: 1 },
        { module: 'k6/x/faker', file: 'lib/gen.js', line: 1 },
        { module: 'k6/execution', file: 'lib/gen.js', line: 2 },
      ]);
      expect(scripts.remoteModules).toEqual([{ module: 'https://jslib.k6.io/k6-utils/1.4.0/index.js', file: 'main.js', line: 3 }]);
    });

    test('scripts with top-level await and remote jslib imports pass the scripts type-check (scripts/tsconfig.json)', () => {
      // GIVEN a script using both, checked with the repository's scripts/tsconfig.json and declarations (in a folder
      // inside the repository, so @types/k6 resolves as it does for scripts/)
      const dir = mkdtempSync(path.join(repoScripts, '..', '.tmp-scripts-check-'));
      dirs.push(dir);
      writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../scripts/tsconfig.json', include: ['*.js', '../scripts/*.d.ts'] }));
      writeFileSync(
        path.join(dir, 'main.js'),
        [
          '// @ts-check',
          "import http from 'k6/http';",
          "import { open } from 'k6/experimental/fs';",
          "import { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';",
          "const file = await open('./data.bin');",
          'export default async function () {',
          '  const info = await file.stat();',
          "  http.post('https://test.k6.io/', JSON.stringify({ id: uuidv4(), size: info.size }));",
          '}',
        ].join('\n'),
      );
      // WHEN
      const tsc = path.join(repoScripts, '..', 'node_modules', 'typescript', 'bin', 'tsc');
      const run = spawnSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8' });
      // THEN
      expect({ status: run.status, out: run.stdout }).toEqual({ status: 0, out: '' });
    });
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

    test('a module with a syntax error names the file and the line the parser stopped at', () => {
      // GIVEN an imported module k6 could not parse either: what it loads after the error would be missing
      const dir = scriptsDir({
        'main.js': "import './lib/broken.js';",
        'lib/broken.js': "import http from 'k6/http';\nexport default function () {\n  http.get(\n}\n",
      });
      // THEN
      expect(() => bundleScripts(dir, 'main.js')).toThrow(
        "TestScripts: 'lib/broken.js' line 4: the script cannot be parsed (Unexpected token); fix the syntax error",
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

    test('a file too large for one ConfigMap, with no data source, names the test, the file, its size and the data modes', () => {
      // GIVEN a binary file whose base64 would not fit (the raw bytes would)
      const big = Buffer.concat([Buffer.from([0xff]), Buffer.alloc(800 * 1024 - 1, 7)]);
      const dir = scriptsDir({ 'main.js': "const d = open('./big.bin', 'b');", 'big.bin': big });
      // WHEN
      const make = () => new TestScripts(Testing.chart(), 'S', { testName: 't', entry: 'main.js', scriptsDir: dir });
      // THEN
      expect(make).toThrow(
        `TestScripts: test 't': file 'big.bin' is 819200 bytes (1092268 in base64), more than one ConfigMap holds (${CONFIG_MAP_BUDGET_BYTES} bytes of data, under the API server's 1 MiB); ` +
          "give the test a data source for files this large: 'data: { mode: image }' (baked into a data image), " +
          "'data: { mode: pvc, claimName }' (a PersistentVolumeClaim holding the file) or 'data: { mode: oci-volume, image }' (an image volume, Kubernetes 1.33+)",
      );
    });

    test('a bundle over 1 MiB of files that each fit is split, not refused', () => {
      // GIVEN two files of 600 KiB
      const dir = scriptsDir({
        'main.js': "open('./a.json'); open('./b.json');",
        'a.json': 'a'.repeat(600 * 1024),
        'b.json': 'b'.repeat(600 * 1024),
      });
      // WHEN
      const scripts = new TestScripts(Testing.chart(), 'S', { testName: 't', entry: 'main.js', scriptsDir: dir });
      // THEN
      expect(scripts.sizeBytes).toBeGreaterThan(CONFIG_MAP_LIMIT_BYTES);
      // first fit by decreasing size: the entry joins the first ConfigMap that has room
      expect(scripts.configMaps.map((c) => c.data)).toEqual([
        { 'a.json': 'a'.repeat(600 * 1024), 'main.js': "open('./a.json'); open('./b.json');" },
        { 'b.json': 'b'.repeat(600 * 1024) },
      ]);
      expect(scripts.configMap).toBe(scripts.configMaps[0]);
      // Helm's release record is one Secret: the note says so and what deploys it
      expect(scripts.warnings).toEqual([
        "TestScripts: test 't' bundles 1228854 bytes in 2 ConfigMaps; kubectl apply of dist/ and Pulumi apply them as they are, but `helm install` of dist/chart may fail: Helm keeps a release in one Secret of at most 1 MiB (gzip'd chart and manifest); deploy this environment with kubectl or Pulumi",
      ]);
    });

    test('a data source no file needs is a warning', () => {
      const dir = scriptsDir({ 'main.js': '' });
      const scripts = new TestScripts(Testing.chart(), 'S', {
        testName: 't',
        entry: 'main.js',
        scriptsDir: dir,
        data: { mode: 'pvc', claimName: 'c', subPath: '' },
      });
      expect(scripts.dataFiles).toEqual([]);
      expect(scripts.warnings).toEqual([
        "TestScripts: test 't' sets 'data' (mode pvc), but every bundled file fits in a ConfigMap: the data source is not used",
      ]);
    });
  });
});
