/**
 * The library's boundary: everything constructs/src imports stays inside constructs/src or is a declared dependency
 * (or peer dependency) of constructs/package.json, so the published package works outside this repository.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import * as ts from 'typescript';

const constructsDir = path.resolve(__dirname, '..');
const srcDir = path.join(constructsDir, 'src');
const pkg = JSON.parse(readFileSync(path.join(constructsDir, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  /** Inlined into lib/vendor/ by the build (constructs/bin/build.js): the consumer installs none of them. */
  vendoredDependencies?: Record<string, string>;
};

/** Library sources: every .ts under src/ except tests. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Module specifiers of imports, re-exports, `import()` and `require()` calls, and `import x = require()`. */
function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const walk = (node: ts.Node): void => {
    // `import type` is erased from the compiled modules; what the public declarations import is the API report's to show
    const typeOnly = ts.isImportDeclaration(node) && node.importClause?.isTypeOnly === true;
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      !typeOnly
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) found.push(e.text);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isLoader = callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require');
      const arg = node.arguments[0];
      if (isLoader && arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
    }
    ts.forEachChild(node, walk);
  };
  walk(sf);
  return found;
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

describe('constructs/ package boundary', () => {
  const files = sources(srcDir);

  test('the scan sees the library sources and their imports', () => {
    // GIVEN / WHEN
    const all = files.flatMap(importsOf);
    // THEN: a scan that found nothing would prove nothing
    expect(files.map((f) => path.relative(srcDir, f))).toEqual(
      expect.arrayContaining(['index.ts', 'platform/platform.ts', 'load-test/test-scripts.ts', 'platform/load-test-platform.ts']),
    );
    expect(all).toEqual(expect.arrayContaining(['cdk8s', 'constructs', 'zod', '@babel/parser', './platform/platform']));
  });

  test('relative imports resolve inside constructs/src (no infra/, scripts/, cli/, dashboards/ or test code)', () => {
    // GIVEN
    const escaping: string[] = [];
    // WHEN
    for (const file of files) {
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const target = path.resolve(path.dirname(file), spec);
        const rel = path.relative(srcDir, target);
        if (rel.startsWith('..') || path.isAbsolute(rel)) escaping.push(`${path.relative(constructsDir, file)} imports ${spec}`);
      }
    }
    // THEN
    expect(escaping).toEqual([]);
  });

  test('every package imported is a Node built-in, or a dependency, peer dependency or vendored dependency of constructs/package.json', () => {
    // GIVEN
    const declared = new Set([pkg.dependencies, pkg.peerDependencies, pkg.vendoredDependencies].flatMap((deps) => Object.keys(deps ?? {})));
    const builtins = new Set(builtinModules);
    const undeclared: string[] = [];
    // WHEN
    for (const file of files) {
      for (const spec of importsOf(file).filter((s) => !s.startsWith('.'))) {
        const name = packageName(spec);
        if (spec.startsWith('node:') || builtins.has(name)) continue;
        if (!declared.has(name)) undeclared.push(`${path.relative(constructsDir, file)} imports ${spec}`);
      }
    }
    // THEN
    expect(undeclared).toEqual([]);
  });

  test('peer dependencies are exactly cdk8s, cdk8s-plus-27, constructs and zod (its schemas are exported), at the versions the repository uses', () => {
    // GIVEN
    const root = JSON.parse(readFileSync(path.resolve(constructsDir, '..', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const used = { ...root.devDependencies, ...root.dependencies };
    // THEN
    expect(pkg.peerDependencies).toEqual({
      cdk8s: `^${root.dependencies.cdk8s}`,
      'cdk8s-plus-27': `^${root.dependencies['cdk8s-plus-27']}`,
      constructs: `^${root.dependencies.constructs}`,
      zod: `^${root.dependencies.zod}`,
    });
    // no runtime dependency is installed with the package: the rest is inlined, at the version the repository tests
    expect(pkg.dependencies).toBeUndefined();
    expect(Object.keys(pkg.vendoredDependencies ?? {})).toEqual(['@babel/parser', 'cron-parser', 'ipaddr.js', 'yaml']);
    expect(Object.entries(pkg.vendoredDependencies ?? {})).toEqual(
      Object.keys(pkg.vendoredDependencies ?? {}).map((name) => [name, `^${used[name] ?? 'missing from the root package.json'}`]),
    );
  });
});
