/**
 * The architecture as docs/architecture.md states it, checked on the sources: which folder may import which, that
 * code outside constructs/ reaches the library through its package entry, how large a unit may grow, and that the
 * generated k6-operator bindings are what `npm run imports:k6` makes from the pinned CRD today.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

const root = path.resolve(__dirname, '..');

/** Every .ts source under `dir` (relative to the repository root), tests and generated code included. */
function tsFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .filter((f) => !f.split(path.sep).includes('node_modules'))
    .sort();
}

const isTest = (f: string) => /\.test\.ts$/.test(f) || /(^|\/)test\//.test(f);
const isGenerated = (f: string) => f.startsWith('constructs/src/imports/');

/** The module specifiers a file imports or re-exports (static imports, `export ... from`, `import()`, `require()`). */
function specifiersOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The top folder (constructs, cli, dashboards, infra, bench, test, ...) a relative import of `file` lands in. */
function targetsOf(file: string): { spec: string; target: string }[] {
  return specifiersOf(file)
    .filter((s) => s.startsWith('.'))
    .map((spec) => ({ spec, target: path.relative(root, path.resolve(root, path.dirname(file), spec)) }));
}

const SOURCE_DIRS = ['constructs/src', 'cli', 'dashboards', 'infra', 'bench'];
const sources = SOURCE_DIRS.flatMap(tsFiles);

/** What each folder may import from the others by relative path (the package entry aside). */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  'constructs/src': ['constructs/src'],
  dashboards: ['dashboards'],
  cli: ['cli'],
  infra: ['infra'],
  // The benchmarks measure the CLI's queries against the test harness' Prometheus.
  bench: ['bench', 'cli', 'test/support'],
};
/** Measuring tools outside bench/ that read the test harness, like the benchmarks do (never part of a build). */
const TOOLS_MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  'dashboards/compare-reference.ts': ['dashboards', 'test/support'],
};

const folderOf = (f: string) => SOURCE_DIRS.find((d) => f === d || f.startsWith(`${d}/`));

describe('architecture', () => {
  test('the scan sees every folder and their imports', () => {
    // THEN: a scan that found nothing would prove nothing
    for (const d of SOURCE_DIRS) expect(sources.filter((f) => folderOf(f) === d).length).toBeGreaterThan(2);
    expect(specifiersOf('cli/prometheus/runs.ts')).toContain('@k6-platform/constructs/internal');
    expect(specifiersOf('examples/team-cdk8s-app/app.ts')).toContain('@k6-platform/constructs');
    expect(targetsOf('constructs/src/index.ts').map((t) => t.target)).toContain('constructs/src/contract');
  });

  test('import direction: constructs/ imports no other folder; dashboards/, cli/ and infra/ import none of each other', () => {
    // GIVEN / WHEN
    const crossings = sources
      .filter((f) => !isTest(f))
      .flatMap((f) =>
        targetsOf(f)
          .filter(({ target }) => !(TOOLS_MAY_IMPORT[f] ?? MAY_IMPORT[folderOf(f)!]!).some((d) => target === d || target.startsWith(`${d}/`)))
          .map(({ spec }) => `${f} imports ${spec}`),
      );
    // THEN
    expect(crossings).toEqual([]);
  });

  test('outside constructs/, the library is imported by its package entries, never by a source path; examples use only the public ones', () => {
    // GIVEN
    const outside = [...sources.filter((f) => folderOf(f) !== 'constructs/src'), ...tsFiles('examples')].filter((f) => !isTest(f));
    // WHEN
    const deep = outside.flatMap((f) =>
      targetsOf(f)
        .filter(({ target }) => target.startsWith('constructs/'))
        .map(({ spec }) => `${f} imports ${spec}`),
    );
    const packaged = outside.flatMap((f) => specifiersOf(f).filter((s) => s.startsWith('@k6-platform/constructs')));
    // THEN
    expect(deep).toEqual([]);
    expect([...new Set(packaged)].sort()).toEqual(['@k6-platform/constructs', '@k6-platform/constructs/internal', '@k6-platform/constructs/output']);
    // a team's code (the examples) never reaches the building blocks behind the public API
    const internal = tsFiles('examples').flatMap((f) =>
      specifiersOf(f)
        .filter((s) => s === '@k6-platform/constructs/internal')
        .map(() => f),
    );
    expect(internal).toEqual([]);
  });

  describe('unit sizes: no source file over 400 lines, no function over 80 lines (tests and generated code aside)', () => {
    const MAX_FILE_LINES = 400;
    const MAX_FUNCTION_LINES = 80;
    const checked = sources.filter((f) => !isTest(f) && !isGenerated(f));

    test('files', () => {
      const long = checked.map((f) => ({ f, n: readFileSync(path.join(root, f), 'utf8').split('\n').length })).filter(({ n }) => n > MAX_FILE_LINES);
      expect(long.map(({ f, n }) => `${f}: ${n} lines`)).toEqual([]);
    });

    test('functions', () => {
      const long: string[] = [];
      for (const f of checked) {
        const sf = ts.createSourceFile(f, readFileSync(path.join(root, f), 'utf8'), ts.ScriptTarget.Latest, true);
        const visit = (node: ts.Node) => {
          if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
            const lines = sf.getLineAndCharacterOfPosition(node.end).line - sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
            const name = node.name !== undefined && ts.isIdentifier(node.name) ? node.name.text : '<anonymous>';
            if (lines > MAX_FUNCTION_LINES) long.push(`${f}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1} ${name}: ${lines} lines`);
          }
          ts.forEachChild(node, visit);
        };
        visit(sf);
      }
      expect(long).toEqual([]);
    });
  });

  test('constructs/src/imports/k6.io.ts is what `npm run imports:k6` generates from constructs/crds/k6.io_testruns.yaml', () => {
    // GIVEN
    const out = mkdtempSync(path.join(tmpdir(), 'k6-imports-'));
    try {
      // WHEN: the same command as package.json "imports:k6", into a scratch folder (run from there: cdk8s import
      // records what it imported in a cdk8s.yaml of its working directory)
      execFileSync(
        process.execPath,
        [
          path.join(root, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s'),
          'import',
          path.join(root, 'constructs', 'crds', 'k6.io_testruns.yaml'),
          '--output',
          path.join(out, 'imports'),
          '--language',
          'typescript',
          '--no-check-upgrade',
        ],
        { cwd: out, stdio: 'pipe' },
      );
      // THEN
      expect(readFileSync(path.join(out, 'imports', 'k6.io.ts'), 'utf8')).toBe(
        readFileSync(path.join(root, 'constructs/src/imports/k6.io.ts'), 'utf8'),
      );
      expect(readFileSync(path.join(root, 'package.json'), 'utf8')).toContain(
        'cd constructs && cdk8s import crds/k6.io_testruns.yaml --output src/imports --language typescript --no-check-upgrade',
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
