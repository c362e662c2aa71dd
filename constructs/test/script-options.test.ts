import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { entryScriptOptions, readScriptOptions, RESERVED_TAGS, reservedTagWrites } from '../src/k6/script-options';
import { bundleScriptTree, TestScripts } from '../src/load-test/test-scripts';

/** Reads the options of a script given as lines. */
const read = (lines: string[], fileName = 'test.js') => readScriptOptions(lines.join('\n'), fileName);

describe('readScriptOptions', () => {
  test('the repository smoke script: thresholds as k6 reads them, no tags, no problems', () => {
    // GIVEN scripts/smoke.js as written (JSDoc-typed options)
    const source = [
      "import http from 'k6/http';",
      "/** @type {import('k6/options').Options} */",
      'export const options = {',
      '  vus: 1,',
      '  iterations: 10,',
      '  thresholds: {',
      "    http_req_failed: ['rate<0.01'],",
      "    checks: ['rate>0.99'],",
      '  },',
      '};',
    ];
    // WHEN / THEN
    expect(read(source)).toEqual({ thresholds: { http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] }, problems: [] });
  });

  test('no options export, or options without thresholds and tags: nothing, no problems', () => {
    expect(read(['export default function () {}'])).toEqual({ problems: [] });
    expect(read(["export const options = { vus: Number(__ENV.VUS), duration: '1m' };"])).toEqual({ problems: [] });
    expect(read(['const options = { thresholds: { checks: ["rate>0.9"] } };', 'export default function () {}'])).toEqual({ problems: [] });
  });

  test('object-form thresholds, tag filters in metric names, quoted keys and every literal form', () => {
    // GIVEN k6's two threshold shapes (metrics/thresholds.go thresholdConfig.UnmarshalJSON, k6 v1.7.1)
    const source = [
      'export const options = {',
      '  thresholds: {',
      "    'http_req_duration{scenario:browse}': [{ threshold: 'p(95)<200', abortOnFail: true, delayAbortEval: '10s' }],",
      '    http_req_failed: [`rate<0.01`, { threshold: "rate<0.05", abortOnFail: false, delayAbortEval: 5000 }],',
      "    ['iteration_duration']: ['avg<1000'],",
      '  },',
      '  tags: { team: \'checkout\', "cost-center": `4711` },',
      '};',
    ];
    // WHEN / THEN
    expect(read(source)).toEqual({
      thresholds: {
        'http_req_duration{scenario:browse}': [{ threshold: 'p(95)<200', abortOnFail: true, delayAbortEval: '10s' }],
        http_req_failed: ['rate<0.01', { threshold: 'rate<0.05', abortOnFail: false, delayAbortEval: 5000 }],
        iteration_duration: ['avg<1000'],
      },
      tags: { team: 'checkout', 'cost-center': '4711' },
      problems: [],
    });
  });

  test.each([
    ['export let', ['export let options = { tags: { team: "a" } };']],
    ['export var', ['export var options = { tags: { team: "a" } };']],
    ['export { options }', ['const options = { tags: { team: "a" } };', 'export { options };']],
    ['export { opts as options }', ['const opts = { tags: { team: "a" } };', 'export { opts as options };']],
    ['Object.freeze', ['export const options = Object.freeze({ tags: { team: "a" } });']],
    ['parentheses', ['export const options = ({ tags: { team: "a" } });']],
  ])('finds the options declared with %s', (_, lines) => {
    expect(read(lines)).toEqual({ tags: { team: 'a' }, problems: [] });
  });

  test('TypeScript: a typed declaration, `as` and `satisfies`', () => {
    const source = [
      "import type { Options } from 'k6/options';",
      "const slo = { http_req_duration: ['p(95)<300'] } as const;",
      "export const options: Options = { thresholds: slo, tags: { team: 'a' } satisfies Record<string, string> } as Options;",
    ];
    expect(read(source, 'test.ts')).toEqual({ thresholds: { http_req_duration: ['p(95)<300'] }, tags: { team: 'a' }, problems: [] });
  });

  test('decorators do not stop the reader, in TypeScript or JavaScript', () => {
    const source = ['@sealed', 'class Checkout {}', "export const options = { tags: { team: 'a' } };"];
    expect(read(source, 'test.ts')).toEqual({ tags: { team: 'a' }, problems: [] });
    expect(read(source, 'test.js')).toEqual({ tags: { team: 'a' }, problems: [] });
  });

  test('follows top-level consts: identifiers, shorthand properties, spreads and template substitutions', () => {
    // GIVEN values shared through constants, as real scripts do
    const source = [
      'const P95 = 250;',
      'const LATENCY = `p(95)<${P95}`;',
      "const common = { http_req_failed: ['rate<0.01'] };",
      "const base = { tags: { team: 'shop' }, vus: 10 };",
      "const extra = ['p(99)<800'];",
      'const thresholds = { ...common, http_req_duration: [LATENCY, ...extra] };',
      'export const options = { ...base, thresholds };',
    ];
    // THEN
    expect(read(source)).toEqual({
      thresholds: { http_req_failed: ['rate<0.01'], http_req_duration: ['p(95)<250', 'p(99)<800'] },
      tags: { team: 'shop' },
      problems: [],
    });
  });

  test('a spread that cannot be read is harmless when thresholds and tags are set after it', () => {
    const source = ["import { base } from './base.js';", "export const options = { ...base, thresholds: { checks: ['rate>0.9'] }, tags: {} };"];
    expect(read(source)).toEqual({ thresholds: { checks: ['rate>0.9'] }, tags: {}, problems: [] });
  });

  describe('problems, with the line and a hint', () => {
    test('thresholds from __ENV, a function call or a computed value', () => {
      const source = [
        'export const options = {',
        '  thresholds: {',
        '    http_req_duration: [`p(95)<${__ENV.P95}`],',
        "    http_req_failed: [buildThreshold('rate', 0.01)],",
        "    checks: [__ENV.STRICT ? 'rate>0.99' : 'rate>0.9'],",
        '  },',
        '};',
      ];
      expect(read(source)).toEqual({
        problems: [
          {
            line: 3,
            message:
              'options.thresholds["http_req_duration"][0] is read from __ENV (__ENV.P95), only known at run time and cannot be read statically; declare them in the test\'s `thresholds` config instead',
          },
          {
            line: 4,
            message:
              "options.thresholds[\"http_req_failed\"][0] is a function call (buildThreshold('rate', 0.01)) and cannot be read statically; declare them in the test's `thresholds` config instead",
          },
          {
            line: 5,
            message:
              "options.thresholds[\"checks\"][0] is read from __ENV (__ENV.STRICT ? 'rate>0.99' : 'rate>0.9'), only known at run time and cannot be read statically; declare them in the test's `thresholds` config instead",
          },
        ],
      });
    });

    test('thresholds built by a function, or spread from an import', () => {
      expect(read(['', "import { slo } from './slo.js';", 'export const options = { thresholds: makeThresholds(slo) };']).problems).toEqual([
        {
          line: 3,
          message:
            "options.thresholds are a function call (makeThresholds(slo)) and cannot be read statically; declare them in the test's `thresholds` config instead",
        },
      ]);
      expect(read(["import { slo } from './slo.js';", 'export const options = {', '  thresholds: { ...slo },', '};']).problems).toEqual([
        {
          line: 3,
          message:
            'options.thresholds contain a spread of slo imported from "./slo.js", which cannot be read statically; declare them in the test\'s `thresholds` config instead',
        },
      ]);
    });

    test('a spread that cannot be read and may set thresholds or tags', () => {
      expect(read(["import { base } from './base.js';", 'export const options = {', '  vus: 5,', '  ...base,', '};'])).toEqual({
        problems: [
          {
            line: 4,
            message:
              'options contain a spread of base imported from "./base.js", which may set options.thresholds or options.tags and cannot be read statically; declare them in the test\'s `thresholds` config instead, and declare tags as string literals',
          },
        ],
      });
    });

    test('options that are not an object literal at all', () => {
      expect(read(['export const options = JSON.parse(open("./options.json"));']).problems).toEqual([
        {
          line: 1,
          message:
            'options are a function call (JSON.parse(open("./options.json"))) and cannot be read statically; declare them in the test\'s `thresholds` config instead, and declare tags as string literals',
        },
      ]);
      // Another file is not at hand for a single script (entryScriptOptions follows bundled modules).
      const notAtHand =
        'options are imported from "./options.js", which is not at hand (not a bundled local module) and cannot be read statically; ' +
        "declare them in the test's `thresholds` config instead, and declare tags as string literals";
      expect(read(["export { options } from './options.js';"]).problems).toEqual([{ line: 1, message: notAtHand }]);
      expect(read(["import { options } from './options.js';", 'export { options };']).problems).toEqual([{ line: 1, message: notAtHand }]);
      expect(read(['export let options;']).problems).toEqual([
        {
          line: 1,
          message:
            "options are declared without a value (options) and cannot be read statically; declare them in the test's `thresholds` config instead, and declare tags as string literals",
        },
      ]);
    });

    test('tags that are not string literals, and tags the platform reserves', () => {
      // GIVEN lib/options.go RunTags map[string]string (k6 v1.7.1): tag values are strings
      const source = [
        'export const options = {',
        '  tags: {',
        '    team: __ENV.TEAM,',
        '    build: 42,',
        "    testid: 'my-run',",
        "    instance_id: '0',",
        "    test: 'checkout',",
        "    ok: 'yes',",
        '  },',
        '};',
      ];
      // THEN
      expect(read(source)).toEqual({
        problems: [
          {
            line: 3,
            message:
              'options.tags.team is read from __ENV (__ENV.TEAM), only known at run time and cannot be read statically; declare tags as string literals',
          },
          { line: 4, message: 'options.tags.build must be a string (k6 tags are strings), got 42; declare tags as string literals' },
          {
            line: 5,
            message: 'options.tags.testid is reserved: the platform sets the testid tag on every runner, a script must not override it; remove it',
          },
          {
            line: 6,
            message:
              'options.tags.instance_id is reserved: the platform sets the instance_id tag on every runner, a script must not override it; remove it',
          },
          {
            line: 7,
            message: 'options.tags.test is reserved: the platform sets the test tag on every runner, a script must not override it; remove it',
          },
        ],
      });
      expect(RESERVED_TAGS).toEqual(['testid', 'instance_id', 'test']);
    });

    test('tags computed as a whole', () => {
      expect(read(["export const options = { tags: JSON.parse(__ENV.TAGS || '{}') };"]).problems).toEqual([
        {
          line: 1,
          message:
            "options.tags are read from __ENV (JSON.parse(__ENV.TAGS || '{}')), only known at run time and cannot be read statically; declare tags as string literals",
        },
      ]);
    });

    test('thresholds k6 itself would refuse or silently ignore', () => {
      const source = [
        'export const options = {',
        '  thresholds: {',
        "    http_req_duration: 'p(95)<200',",
        "    http_req_failed: [{ threshold: 'rate<0.01', abortOnFailure: true }],",
        '    checks: [{ abortOnFail: true }],',
        "    iterations: [{ threshold: 'count>10', abortOnFail: 'yes' }],",
        '    vus: [5],',
        '  },',
        '};',
      ];
      expect(read(source).problems).toEqual([
        {
          line: 3,
          message:
            'options.thresholds["http_req_duration"] must be a list of thresholds (k6 refuses anything else), got "p(95)<200"; write ["p(95)<200"]',
        },
        {
          line: 4,
          message:
            'options.thresholds["http_req_failed"][0] has the unknown key "abortOnFailure" (k6 ignores it); use threshold, abortOnFail and delayAbortEval',
        },
        { line: 5, message: 'options.thresholds["checks"][0] has no threshold expression; add threshold: \'p(95)<200\' (for example)' },
        { line: 6, message: 'options.thresholds["iterations"][0].abortOnFail must be a boolean, got "yes"' },
        {
          line: 7,
          message: 'options.thresholds["vus"][0] must be a threshold expression string or { threshold, abortOnFail, delayAbortEval }, got 5',
        },
      ]);
    });

    test('options changed after the declaration', () => {
      const source = [
        "export const options = { thresholds: { checks: ['rate>0.9'] }, tags: { team: 'a' } };",
        "options.thresholds['http_req_duration'] = ['p(95)<200'];",
        'options.tags.env = __ENV.ENV;',
        "Object.assign(options, { tags: { team: 'b' } });",
        'options.vus = 10;',
      ];
      expect(read(source).problems).toEqual([
        {
          line: 2,
          message:
            "options.thresholds is changed after its declaration, which the platform cannot read; declare them in the test's `thresholds` config instead",
        },
        { line: 3, message: 'options.tags is changed after its declaration, which the platform cannot read; declare tags as string literals' },
        {
          line: 4,
          message: "options is changed after its declaration, which the platform cannot read; declare them in the test's `thresholds` config instead",
        },
      ]);
    });

    test('a let constant is not followed (it may change)', () => {
      expect(read(["let limit = 'p(95)<200';", 'export const options = { thresholds: { http_req_duration: [limit] } };']).problems).toEqual([
        {
          line: 2,
          message:
            'options.thresholds["http_req_duration"][0] is limit, which is not a const and cannot be read statically; declare them in the test\'s `thresholds` config instead',
        },
      ]);
    });
  });
});

describe('options of a script bundle', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const scriptsDir = (files: Record<string, string>) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'k6-options-'));
    dirs.push(dir);
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
    return dir;
  };

  test("TestScripts.options and entryScriptOptions() read the entry script's options, not its modules'", () => {
    // GIVEN an entry with options and a helper module with an options-like export
    const dir = scriptsDir({
      'main.js': [
        "import { helper } from './lib/helper.js';",
        'export const options = {',
        "  thresholds: { 'checks{type:api}': ['rate>0.95'] },",
        "  tags: { team: 'payments' },",
        '};',
        'export default function () { helper(); }',
      ].join('\n'),
      'lib/helper.js': "export const options = { tags: { team: 'other' } };\nexport function helper() {}",
    });
    // WHEN
    const scripts = new TestScripts(Testing.chart(), 'S', { testName: 't', entry: 'main.js', scriptsDir: dir });
    // THEN
    const expected = { thresholds: { 'checks{type:api}': ['rate>0.95'] }, tags: { team: 'payments' }, problems: [] };
    expect(scripts.options).toEqual(expected);
    expect(entryScriptOptions(scripts)).toEqual(expected);
    expect(entryScriptOptions(bundleScriptTree(dir, 'main.js'))).toEqual(expected);
  });

  test("the repository's scripts read without problems", () => {
    const repoScripts = path.join(__dirname, '..', '..', 'scripts');
    const options = (entry: string) => new TestScripts(Testing.chart(), 'S', { testName: 't', entry, scriptsDir: repoScripts }).options;
    expect(options('sample.js')).toEqual({ problems: [] });
    expect(options('smoke.js')).toEqual({ thresholds: { http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] }, problems: [] });
  });

  test('follows values imported from the bundle: shared options, SLOs and tags in local modules', () => {
    // GIVEN options assembled from modules of the bundle, as larger k6 projects do
    const dir = scriptsDir({
      'tests/checkout.js': [
        "import { base } from '../lib/options.js';",
        "import * as slo from '../lib/slo.js';",
        'export const options = {',
        '  ...base,',
        '  thresholds: { ...slo.api, checks: [slo.CHECKS] },',
        '};',
        'export default function () {}',
      ].join('\n'),
      'lib/options.js': "import { TEAM } from './team.js';\nexport const base = { tags: { team: TEAM } };",
      'lib/team.js': "const team = 'checkout';\nexport { team as TEAM };",
      'lib/slo.js': "export const CHECKS = 'rate>0.99';\nexport const api = { http_req_duration: ['p(95)<300'] };",
      'reexport.js': "export { options } from './lib/shared.js';\nexport default function () {}",
      'lib/shared.js': "import { api } from './slo.js';\nexport const options = { thresholds: api, tags: { team: String(42) } };",
    });
    // WHEN
    const checkout = new TestScripts(Testing.chart(), 'S', { testName: 't', entry: 'tests/checkout.js', scriptsDir: dir }).options;
    const reexport = new TestScripts(Testing.chart(), 'R', { testName: 'r', entry: 'reexport.js', scriptsDir: dir }).options;
    // THEN values are followed across files; problems in another file name it
    expect(checkout).toEqual({
      thresholds: { http_req_duration: ['p(95)<300'], checks: ['rate>0.99'] },
      tags: { team: 'checkout' },
      problems: [],
    });
    expect(reexport).toEqual({
      thresholds: { http_req_duration: ['p(95)<300'] },
      problems: [
        {
          file: 'lib/shared.js',
          line: 2,
          message: 'options.tags.team is a function call (String(42)) and cannot be read statically; declare tags as string literals',
        },
      ],
    });
  });

  test('a TypeScript entry script', () => {
    const dir = scriptsDir({ 'main.ts': "import type { Options } from 'k6/options';\nexport const options: Options = { tags: { team: 'a' } };" });
    expect(new TestScripts(Testing.chart(), 'S', { testName: 't', entry: 'main.ts', scriptsDir: dir }).options).toEqual({
      tags: { team: 'a' },
      problems: [],
    });
  });
});

describe('reservedTagWrites: a script must not set the run tags on its own samples', () => {
  // k6 v1.7.1 overlays a call's tags on the run tags (js/modules/k6/http/request.go: params `tags` go through
  // common.ApplyCustomUserTags onto the VU's current tags; VU tags: internal/js/modules/k6/execution/execution.go
  // newVUInfo `tags`), so a per-request `testid` moves those samples to another run.
  test('per-request tags objects and VU tag assignments that set testid, instance_id or test are reported by line', () => {
    // GIVEN
    const source = [
      "import http from 'k6/http';", // 1
      "import exec from 'k6/execution';", // 2
      "export const options = { tags: { team: 'shop' } };", // 3
      'export default function () {', // 4
      "  http.get('https://shop.example.com/', { tags: { name: 'home', testid: 'other-run' } });", // 5
      "  exec.vu.tags.instance_id = '7';", // 6
      "  exec.vu.metrics.tags['test'] = 'checkout';", // 7
      "  http.get('https://shop.example.com/cart', { tags: { name: 'cart' } });", // 8
      "  exec.vu.tags.flow = 'buy';", // 9
      '}', // 10
    ].join('\n');
    // WHEN
    const problems = reservedTagWrites(source, 'main.js');
    // THEN
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [
        5,
        'a tags object sets the run tag testid, which the platform sets on every runner and the verdict reads (testid, instance_id, test); use another tag name',
      ],
      [
        6,
        'an assignment to VU tags sets the run tag instance_id, which the platform sets on every runner and the verdict reads (testid, instance_id, test); use another tag name',
      ],
      [
        7,
        'an assignment to VU tags sets the run tag test, which the platform sets on every runner and the verdict reads (testid, instance_id, test); use another tag name',
      ],
    ]);
  });

  test('entryScriptOptions reports them for every module of the bundle, naming the module', () => {
    // GIVEN an entry that imports a helper which tags its requests with testid
    const files = [
      {
        key: 'main.js',
        path: 'main.js',
        content: "import { go } from './lib/go.js';\nexport default function () { go(); }\n",
        binary: false,
        sizeBytes: 0,
      },
      {
        key: 'lib__go.js',
        path: 'lib/go.js',
        content: "import http from 'k6/http';\nexport function go() {\n  http.get('https://x/', { tags: { testid: 'x' } });\n}\n",
        binary: false,
        sizeBytes: 0,
      },
    ];
    // WHEN
    const options = entryScriptOptions({ files });
    // THEN
    expect(options.problems).toEqual([expect.objectContaining({ file: 'lib/go.js', line: 3 })]);
  });
});
