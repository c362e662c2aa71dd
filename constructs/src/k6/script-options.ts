import * as path from 'node:path';
import * as ts from 'typescript';
import { RUN_TAGS } from '../contract/labels';
import type { ScriptFile } from '../load-test/test-scripts';

/**
 * A static reader of the `options` a k6 script exports: its `thresholds` and run `tags`, read from the source without
 * running it, so the platform can judge the script's thresholds over all runners and pass its tags to every runner.
 *
 * k6 reads the entry script's `options` export by marshalling it to JSON and decoding that into its options
 * (internal/js/bundle.go `populateExports`, k6 v1.7.1), so only JSON-shaped values matter:
 * - `tags` (lib/options.go `RunTags map[string]string`): string values only;
 * - `thresholds` (metrics/thresholds.go `Thresholds.UnmarshalJSON`, `thresholdConfig.UnmarshalJSON`): per metric a
 *   list of expressions, each a string or `{ threshold, abortOnFail, delayAbortEval }` (`delayAbortEval` a duration
 *   string or milliseconds, lib/types/types.go `Duration.UnmarshalJSON`).
 */

/** One threshold of a metric as a script declares it: the expression, or k6's object form. */
export type ScriptThreshold =
  | string
  | {
      /** The threshold expression. @example "p(95)<200" */
      readonly threshold: string;
      /** Stop the whole test when the threshold fails. */
      readonly abortOnFail?: boolean;
      /** How long to wait before `abortOnFail` takes effect: a k6 duration or milliseconds. @example "10s" */
      readonly delayAbortEval?: string | number;
    };

/** Something in a script's options the reader could not take as it is, with where. */
export interface ScriptOptionsProblem {
  /** 1-based line in the script. */
  readonly line: number;
  /** What is wrong and how to fix it. */
  readonly message: string;
  /** The bundled file the line is in, when it is not the script read (a module the options are imported from). */
  readonly file?: string;
}

/** What {@link readScriptOptions} read from a script. */
export interface ScriptOptions {
  /** `options.thresholds` by metric (with tag filters as written, `http_req_duration{scenario:browse}`); absent when the script declares none or they cannot be read. */
  readonly thresholds?: Record<string, ScriptThreshold[]>;
  /** `options.tags` (run tags); absent when the script declares none or they cannot be read. */
  readonly tags?: Record<string, string>;
  /** Options that exist but cannot be read statically, or that k6 or the platform would refuse; empty when all is well. */
  readonly problems: readonly ScriptOptionsProblem[];
}

/** Tags the platform sets on every runner; a script must not set them. */
export const RESERVED_TAGS: readonly string[] = [RUN_TAGS.testid, RUN_TAGS.instance, RUN_TAGS.test];

const THRESHOLDS_HINT = "declare them in the test's `thresholds` config instead";
const TAGS_HINT = 'declare tags as string literals';
const THRESHOLD_KEYS = new Set(['threshold', 'abortOnFail', 'delayAbortEval']);

/** Where something is: a file of the bundle and a 1-based line. */
interface Loc {
  readonly file: string;
  readonly line: number;
}

/** A value the reader could not evaluate: where and what it is. */
class Unknown {
  public constructor(
    public readonly at: Loc,
    public readonly what: string,
  ) {}
}

/** An object literal: its known properties (with where each is set), and spreads that could not be read. */
class Obj {
  public readonly props = new Map<string, { value: Value; at: Loc }>();
  /** A spread that could not be read, and which properties were set after it (those are known to win). */
  public readonly opaque: { unknown: Unknown; laterKeys: Set<string> }[] = [];
  public set(key: string, value: Value, at: Loc): void {
    this.props.set(key, { value, at });
    for (const o of this.opaque) o.laterKeys.add(key);
  }
}

type Value = string | number | boolean | null | undefined | Value[] | Obj | Unknown;

/** One parsed file: its top-level declarations, imports and exports. */
interface FileContext {
  readonly file: string;
  readonly sf: ts.SourceFile;
  readonly declarations: Map<string, { decl: ts.VariableDeclaration; isConst: boolean }>;
  /** Local name -> where it is imported from (`*` for a namespace import). */
  readonly imports: Map<string, { specifier: string; name: string }>;
  /** Exported name -> local name. */
  readonly exports: Map<string, string>;
  /** Exported name -> re-export from another module. */
  readonly reExports: Map<string, { specifier: string; name: string; at: number }>;
}

function parseFile(file: string, source: string): FileContext {
  const kind = /\.[mc]?ts$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, kind);
  const ctx: FileContext = { file, sf, declarations: new Map(), imports: new Map(), exports: new Map(), reExports: new Map() };
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) {
      const isConst = (st.declarationList.flags & ts.NodeFlags.Const) !== 0;
      const exported = st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) === true;
      for (const decl of st.declarationList.declarations) {
        if (!ts.isIdentifier(decl.name)) continue;
        ctx.declarations.set(decl.name.text, { decl, isConst });
        if (exported) ctx.exports.set(decl.name.text, decl.name.text);
      }
    } else if (ts.isImportDeclaration(st) && st.importClause && !st.importClause.isTypeOnly && ts.isStringLiteral(st.moduleSpecifier)) {
      const specifier = st.moduleSpecifier.text;
      const { name, namedBindings } = st.importClause;
      if (name) ctx.imports.set(name.text, { specifier, name: 'default' });
      if (namedBindings && ts.isNamespaceImport(namedBindings)) ctx.imports.set(namedBindings.name.text, { specifier, name: '*' });
      if (namedBindings && ts.isNamedImports(namedBindings)) {
        for (const el of namedBindings.elements) ctx.imports.set(el.name.text, { specifier, name: (el.propertyName ?? el.name).text });
      }
    } else if (ts.isExportDeclaration(st) && !st.isTypeOnly && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const el of st.exportClause.elements) {
        const local = (el.propertyName ?? el.name).text;
        if (st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
          ctx.reExports.set(el.name.text, { specifier: st.moduleSpecifier.text, name: local, at: lineIn(sf, st) });
        } else if (!st.moduleSpecifier) ctx.exports.set(el.name.text, local);
      }
    }
  }
  return ctx;
}

function lineIn(sf: ts.SourceFile, node: ts.Node): number {
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
}

/**
 * The source of another file a script imports (`specifier` as written in `from`), or undefined when it is not at hand
 * (a single file is read, or the module is not local).
 */
type ModuleLoader = (from: string, specifier: string) => { file: string; source: string } | undefined;

/**
 * Reads `options.thresholds` and `options.tags` from a k6 script's source.
 *
 * Finds `export const|let|var options = ...` and `export { options }` / `export { o as options }` of a top-level
 * declaration, through `Object.freeze(...)`, parentheses and TypeScript `as`/`satisfies`. Values are read when they are
 * literals: strings, numbers, booleans, `null`, template literals (substitutions only of readable constants), arrays
 * and object literals, with spreads, identifiers and property accesses of top-level `const` declarations in the same
 * file followed ({@link entryScriptOptions} also follows imports of the bundle's local modules). Anything else
 * (function calls, `__ENV`, other operators, imported values) is a problem with its line, as are values k6 would refuse
 * (a non-string tag, a threshold that is not a list), unknown keys of object-form thresholds, tags the platform
 * reserves ({@link RESERVED_TAGS}) and later assignments to `options`, `options.thresholds` or `options.tags`.
 * When a problem touches `thresholds` (or `tags`), that field is left out of the result.
 */
export function readScriptOptions(source: string, fileName: string): ScriptOptions {
  return readOptions(fileName, source, () => undefined);
}

/**
 * The options of a bundle's entry script (the first of {@link TestScripts.files}), as {@link readScriptOptions} reads
 * them, plus values imported from the bundle's local modules (`import { slo } from './lib/slo.js'`,
 * `export { options } from './options.js'`). Problems in another file than the entry name it in `file`.
 */
export function entryScriptOptions(bundle: { readonly files: readonly ScriptFile[] }): ScriptOptions {
  const entry = bundle.files[0];
  if (entry === undefined || entry.binary) return { problems: [] };
  const byPath = new Map(bundle.files.map((f) => [f.path, f]));
  const load: ModuleLoader = (from, specifier) => {
    if (!/^\.\.?\//.test(specifier)) return undefined;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
    const f = byPath.get(target);
    return f === undefined || f.binary ? undefined : { file: f.path, source: f.content };
  };
  const read = readOptions(entry.path, entry.content, load);
  const overrides = bundle.files
    .filter((f) => !f.binary && /\.[mc]?[jt]s$/.test(f.path))
    .flatMap((f) => reservedTagWrites(f.content, f.path).map((p) => ({ ...p, ...(f.path !== entry.path ? { file: f.path } : {}) })));
  return overrides.length === 0 ? read : { ...read, problems: [...read.problems, ...overrides] };
}

/**
 * Where a script sets a run tag the platform owns ({@link RESERVED_TAGS}) on its own samples: per-request or per-call
 * tags (`http.get(url, { tags: { testid: 'x' } })`, `check(r, c, { instance_id: '3' })` is not caught: only `tags`
 * objects are) and VU tags (`exec.vu.tags.testid = 'x'`, `exec.vu.metrics.tags['test'] = 'x'`). k6 lets such tags
 * override the run tags on those samples (a sample's tags are the run tags overlaid with the call's), which would
 * move them to another run's verdict; the platform refuses such scripts at synth.
 */
export function reservedTagWrites(source: string, fileName: string): ScriptOptionsProblem[] {
  const kind = /\.[mc]?ts$/.test(fileName) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, kind);
  const problems: ScriptOptionsProblem[] = [];
  const nameOf = (n: ts.PropertyName | ts.Expression): string | undefined =>
    ts.isIdentifier(n) || ts.isStringLiteralLike(n) || ts.isNumericLiteral(n) ? n.text : undefined;
  const isTags = (e: ts.Expression) => (ts.isPropertyAccessExpression(e) && e.name.text === 'tags') || (ts.isIdentifier(e) && e.text === 'tags');
  const report = (node: ts.Node, tag: string, how: string) =>
    problems.push({
      line: lineIn(sf, node),
      message: `${how} sets the run tag ${tag}, which the platform sets on every runner and the verdict reads (${RESERVED_TAGS.join(', ')}); use another tag name`,
    });
  const walk = (node: ts.Node): void => {
    if (ts.isPropertyAssignment(node) && nameOf(node.name) === 'tags' && ts.isObjectLiteralExpression(node.initializer)) {
      for (const p of node.initializer.properties) {
        const tag = (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) && p.name !== undefined ? nameOf(p.name) : undefined;
        // options.tags is reported by the options reader; per-call tags objects are reported here
        if (tag !== undefined && RESERVED_TAGS.includes(tag) && !isOptionsTags(node)) report(p, tag, 'a tags object');
      }
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const target = node.left;
      const tag =
        ts.isPropertyAccessExpression(target) && isTags(target.expression)
          ? target.name.text
          : ts.isElementAccessExpression(target) && isTags(target.expression)
            ? nameOf(target.argumentExpression)
            : undefined;
      if (tag !== undefined && RESERVED_TAGS.includes(tag)) report(node, tag, 'an assignment to VU tags');
    }
    ts.forEachChild(node, walk);
  };
  walk(sf);
  return problems;
}

/** Whether a `tags: {...}` property is the one of `export const options = {...}` (reported by the options reader). */
function isOptionsTags(tagsProperty: ts.PropertyAssignment): boolean {
  const obj = tagsProperty.parent;
  const decl = obj.parent;
  return (
    ts.isObjectLiteralExpression(obj) &&
    decl !== undefined &&
    ts.isVariableDeclaration(decl) &&
    ts.isIdentifier(decl.name) &&
    decl.name.text === 'options'
  );
}

function readOptions(entryFile: string, source: string, load: ModuleLoader): ScriptOptions {
  const problems: ScriptOptionsProblem[] = [];
  const problem = (at: Loc, message: string) => problems.push({ line: at.line, message, ...(at.file !== entryFile ? { file: at.file } : {}) });
  const contexts = new Map<string, FileContext | undefined>();
  const entry = parseFile(entryFile, source);
  contexts.set(entryFile, entry);
  const loc = (ctx: FileContext, node: ts.Node): Loc => ({ file: ctx.file, line: lineIn(ctx.sf, node) });

  const evaluating = new Set<string>();
  /** The value a module exports under `name`; `at` is where it is asked for (the import). */
  const exported = (ctx: FileContext, name: string, at: Loc, depth = 0): Value => {
    const local = ctx.exports.get(name);
    if (local !== undefined) return binding(ctx, local, at);
    const re = ctx.reExports.get(name);
    if (re !== undefined) return imported(ctx, re.specifier, re.name, { file: ctx.file, line: re.at }, depth);
    return new Unknown(at, `${name}, which ${ctx.file} does not export as a top-level variable`);
  };
  const imported = (ctx: FileContext, specifier: string, name: string, at: Loc, depth = 0): Value => {
    const what = `${name === '*' ? 'the module' : name === 'default' ? 'the default export' : name} imported from ${JSON.stringify(specifier)}`;
    const target = depth < 10 ? load(ctx.file, specifier) : undefined;
    if (target === undefined) return new Unknown(at, what);
    if (!contexts.has(target.file)) contexts.set(target.file, parseFile(target.file, target.source));
    const tctx = contexts.get(target.file)!;
    if (name === '*') {
      const ns = new Obj();
      for (const n of [...tctx.exports.keys(), ...tctx.reExports.keys()]) ns.set(n, exported(tctx, n, at, depth + 1), at);
      return ns;
    }
    if (name === 'default') return new Unknown(at, what);
    return exported(tctx, name, at, depth + 1);
  };
  /** The value of a top-level name of `ctx` (a const, or an import). */
  const binding = (ctx: FileContext, name: string, at: Loc): Value => {
    const key = `${ctx.file}\0${name}`;
    const d = ctx.declarations.get(name);
    if (d !== undefined) {
      const isOptions = ctx === entry && name === optionsLocal;
      if (!d.isConst && !isOptions) return new Unknown(at, `${name}, which is not a const`);
      if (d.decl.initializer === undefined) return new Unknown(loc(ctx, d.decl), `declared without a value (${name})`);
      if (evaluating.has(key)) return new Unknown(at, `${name}, which refers to itself`);
      evaluating.add(key);
      try {
        return evaluate(ctx, d.decl.initializer);
      } finally {
        evaluating.delete(key);
      }
    }
    const imp = ctx.imports.get(name);
    if (imp !== undefined) {
      if (evaluating.has(key)) return new Unknown(at, `${name}, which refers to itself`);
      evaluating.add(key);
      try {
        return imported(ctx, imp.specifier, imp.name, at);
      } finally {
        evaluating.delete(key);
      }
    }
    return new Unknown(at, `the identifier ${name}`);
  };

  const evaluate = (ctx: FileContext, node: ts.Expression): Value => {
    const at = loc(ctx, node);
    if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isNonNullExpression(node)) {
      return evaluate(ctx, node.expression);
    }
    if (ts.isTypeAssertionExpression(node)) return evaluate(ctx, node.expression);
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
    if (ts.isNumericLiteral(node)) return Number(node.text);
    if (ts.isPrefixUnaryExpression(node) && ts.isNumericLiteral(node.operand)) {
      if (node.operator === ts.SyntaxKind.MinusToken) return -Number(node.operand.text);
      if (node.operator === ts.SyntaxKind.PlusToken) return Number(node.operand.text);
    }
    if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
    if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
    if (node.kind === ts.SyntaxKind.NullKeyword) return null;
    if (ts.isTemplateExpression(node)) {
      let text = node.head.text;
      for (const span of node.templateSpans) {
        const v = evaluate(ctx, span.expression);
        if (typeof v !== 'string' && typeof v !== 'number') {
          return v instanceof Unknown ? v : new Unknown(loc(ctx, span.expression), 'a template literal with a substitution that is not a constant');
        }
        text += String(v) + span.literal.text;
      }
      return text;
    }
    if (ts.isIdentifier(node)) return node.text === 'undefined' ? undefined : binding(ctx, node.text, at);
    if (ts.isPropertyAccessExpression(node) || (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression))) {
      if (/\b__ENV\b/.test(node.getText())) return new Unknown(at, describe(node));
      const key = ts.isPropertyAccessExpression(node) ? node.name.text : (node.argumentExpression as ts.StringLiteralLike).text;
      const base = evaluate(ctx, node.expression);
      if (base instanceof Obj) {
        const own = base.props.get(key);
        if (base.opaque.some((o) => !o.laterKeys.has(key))) return new Unknown(at, describe(node));
        return own?.value;
      }
      return base instanceof Unknown ? base : new Unknown(at, describe(node));
    }
    if (ts.isArrayLiteralExpression(node)) {
      const out: Value[] = [];
      for (const el of node.elements) {
        if (ts.isSpreadElement(el)) {
          const v = evaluate(ctx, el.expression);
          if (Array.isArray(v)) out.push(...v);
          else return v instanceof Unknown ? v : new Unknown(loc(ctx, el), 'a spread of something that is not an array');
        } else if (ts.isOmittedExpression(el)) {
          out.push(undefined);
        } else {
          out.push(evaluate(ctx, el));
        }
      }
      return out;
    }
    if (ts.isObjectLiteralExpression(node)) {
      const obj = new Obj();
      for (const p of node.properties) {
        const pat = loc(ctx, p);
        if (ts.isSpreadAssignment(p)) {
          const v = evaluate(ctx, p.expression);
          if (v instanceof Obj) {
            for (const [k, e] of v.props) obj.set(k, e.value, e.at);
            obj.opaque.push(...v.opaque.map((o) => ({ unknown: o.unknown, laterKeys: new Set(o.laterKeys) })));
          } else if (v instanceof Unknown) {
            obj.opaque.push({ unknown: new Unknown(pat, `a spread of ${v.what}`), laterKeys: new Set() });
          } // spreading a primitive, null or undefined adds nothing
          continue;
        }
        const key = p.name === undefined ? undefined : propertyName(p.name, (e) => evaluate(ctx, e));
        if (key === undefined) {
          obj.opaque.push({ unknown: new Unknown(pat, 'a computed property name'), laterKeys: new Set() });
          continue;
        }
        if (ts.isPropertyAssignment(p)) obj.set(key, evaluate(ctx, p.initializer), pat);
        else if (ts.isShorthandPropertyAssignment(p)) obj.set(key, evaluate(ctx, p.name), pat);
        else obj.set(key, new Unknown(pat, 'a method or accessor'), pat);
      }
      return obj;
    }
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === 'Object' &&
      node.expression.name.text === 'freeze' &&
      node.arguments.length === 1
    ) {
      return evaluate(ctx, node.arguments[0]!);
    }
    return new Unknown(at, describe(node));
  };

  // The entry's options binding: a local declaration exported as `options`, or an import re-exported as it.
  const optionsLocal = entry.exports.get('options');
  const optionsRe = entry.reExports.get('options');
  if (optionsLocal === undefined && optionsRe === undefined) return { problems };
  const options = exported(entry, 'options', { file: entryFile, line: 1 });

  let thresholds: Record<string, ScriptThreshold[]> | undefined;
  let tags: Record<string, string> | undefined;
  if (options instanceof Unknown) {
    const from = /^\S+ imported from (".*")$/.exec(options.what)?.[1];
    const what = from !== undefined ? `imported from ${from}, which is not at hand (not a bundled local module)` : options.what;
    problem(options.at, `options are ${what} and cannot be read statically; ${THRESHOLDS_HINT}, and ${TAGS_HINT}`);
  } else if (options instanceof Obj) {
    // A spread that could not be read may set thresholds or tags, unless they are set after it.
    const hides = (o: Obj['opaque'][number], name: string) => !o.laterKeys.has(name);
    for (const o of options.opaque) {
      const hidden = (['thresholds', 'tags'] as const).filter((n) => hides(o, n));
      if (hidden.length === 0) continue;
      const hint = hidden.length === 2 ? `${THRESHOLDS_HINT}, and ${TAGS_HINT}` : hidden[0] === 'tags' ? TAGS_HINT : THRESHOLDS_HINT;
      problem(
        o.unknown.at,
        `options contain ${o.unknown.what}, which may set ${hidden.map((n) => `options.${n}`).join(' or ')} and cannot be read statically; ${hint}`,
      );
    }
    const field = (name: 'thresholds' | 'tags') => (options.opaque.some((o) => hides(o, name)) ? undefined : options.props.get(name));
    const t = field('thresholds');
    if (t !== undefined) thresholds = readThresholds(t.value, t.at, problem);
    const g = field('tags');
    if (g !== undefined) tags = readTags(g.value, g.at, problem);
  } else if (options !== undefined && options !== null) {
    problem({ file: entryFile, line: 1 }, `options must be an object, got ${JSON.stringify(options)}`);
  }

  // Later changes to the options binding in the entry (options.tags.team = ..., options = {...}, Object.assign(options, ...)).
  const optionsName =
    optionsLocal ?? [...entry.imports.entries()].find(([, i]) => i.specifier === optionsRe?.specifier && i.name === optionsRe.name)?.[0];
  const root = (e: ts.Expression): { name: string; path: string[] } | undefined => {
    const pathOut: string[] = [];
    let cur: ts.Expression = e;
    for (;;) {
      if (ts.isParenthesizedExpression(cur) || ts.isNonNullExpression(cur)) cur = cur.expression;
      else if (ts.isPropertyAccessExpression(cur)) {
        pathOut.unshift(cur.name.text);
        cur = cur.expression;
      } else if (ts.isElementAccessExpression(cur)) {
        pathOut.unshift(ts.isStringLiteralLike(cur.argumentExpression) ? cur.argumentExpression.text : '?');
        cur = cur.expression;
      } else break;
    }
    return ts.isIdentifier(cur) ? { name: cur.text, path: pathOut } : undefined;
  };
  const touched = (target: ts.Expression, node: ts.Node) => {
    const r = root(target);
    if (r === undefined || r.name !== optionsName) return;
    const first = r.path[0];
    if (first !== undefined && first !== 'thresholds' && first !== 'tags') return;
    const what = first === undefined ? 'options' : `options.${first}`;
    problem(
      loc(entry, node),
      `${what} is changed after its declaration, which the platform cannot read; ${first === 'tags' ? TAGS_HINT : THRESHOLDS_HINT}`,
    );
  };
  const walk = (node: ts.Node): void => {
    if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
      node.operatorToken.kind <= ts.SyntaxKind.LastAssignment
    ) {
      touched(node.left, node);
    } else if (ts.isDeleteExpression(node)) {
      touched(node.expression, node);
    } else if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === 'Object' &&
      node.expression.name.text === 'assign' &&
      node.arguments[0] !== undefined
    ) {
      touched(node.arguments[0], node);
    }
    ts.forEachChild(node, walk);
  };
  if (optionsName !== undefined) walk(entry.sf);

  return { ...(thresholds !== undefined ? { thresholds } : {}), ...(tags !== undefined ? { tags } : {}), problems };
}

function readThresholds(value: Value, at: Loc, problem: (at: Loc, message: string) => void): Record<string, ScriptThreshold[]> | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Unknown) {
    problem(value.at, `options.thresholds are ${value.what} and cannot be read statically; ${THRESHOLDS_HINT}`);
    return undefined;
  }
  if (!(value instanceof Obj)) {
    problem(at, `options.thresholds must be an object of metric name to a list of thresholds, got ${show(value)}`);
    return undefined;
  }
  for (const o of value.opaque) {
    problem(o.unknown.at, `options.thresholds contain ${o.unknown.what}, which cannot be read statically; ${THRESHOLDS_HINT}`);
  }
  const out: Record<string, ScriptThreshold[]> = {};
  let ok = value.opaque.length === 0;
  for (const [metric, { value: list, at: itemAt }] of value.props) {
    const where = `options.thresholds[${JSON.stringify(metric)}]`;
    if (list instanceof Unknown) {
      problem(list.at, `${where} is ${list.what} and cannot be read statically; ${THRESHOLDS_HINT}`);
      ok = false;
      continue;
    }
    if (!Array.isArray(list)) {
      // metrics/thresholds.go Thresholds.UnmarshalJSON decodes a list: a lone string fails in k6 too.
      problem(itemAt, `${where} must be a list of thresholds (k6 refuses anything else), got ${show(list)}; write [${show(list)}]`);
      ok = false;
      continue;
    }
    const items: ScriptThreshold[] = [];
    list.forEach((item, i) => {
      const t = readThreshold(item, itemAt, `${where}[${i}]`, problem);
      if (t === undefined) ok = false;
      else items.push(t);
    });
    out[metric] = items;
  }
  return ok ? out : undefined;
}

function readThreshold(item: Value, at: Loc, where: string, problem: (at: Loc, message: string) => void): ScriptThreshold | undefined {
  if (typeof item === 'string') return item;
  if (item instanceof Unknown) {
    problem(item.at, `${where} is ${item.what} and cannot be read statically; ${THRESHOLDS_HINT}`);
    return undefined;
  }
  if (!(item instanceof Obj)) {
    problem(at, `${where} must be a threshold expression string or { threshold, abortOnFail, delayAbortEval }, got ${show(item)}`);
    return undefined;
  }
  let ok = true;
  for (const o of item.opaque) {
    problem(o.unknown.at, `${where} contains ${o.unknown.what}, which cannot be read statically; ${THRESHOLDS_HINT}`);
    ok = false;
  }
  const out: { threshold?: string; abortOnFail?: boolean; delayAbortEval?: string | number } = {};
  for (const [key, { value, at: keyAt }] of item.props) {
    if (value instanceof Unknown) {
      problem(value.at, `${where}.${key} is ${value.what} and cannot be read statically; ${THRESHOLDS_HINT}`);
      ok = false;
    } else if (!THRESHOLD_KEYS.has(key)) {
      // k6 decodes the object leniently (metrics/thresholds.go rawThresholdConfig): a misspelt key is silently ignored.
      problem(keyAt, `${where} has the unknown key ${JSON.stringify(key)} (k6 ignores it); use threshold, abortOnFail and delayAbortEval`);
      ok = false;
    } else if (key === 'threshold' && typeof value === 'string') out.threshold = value;
    else if (key === 'abortOnFail' && typeof value === 'boolean') out.abortOnFail = value;
    else if (key === 'delayAbortEval' && (typeof value === 'string' || typeof value === 'number')) out.delayAbortEval = value;
    else if (value !== undefined && !(key === 'delayAbortEval' && value === null)) {
      const want = key === 'threshold' ? 'a string' : key === 'abortOnFail' ? 'a boolean' : 'a duration string or milliseconds';
      problem(keyAt, `${where}.${key} must be ${want}, got ${show(value)}`);
      ok = false;
    }
  }
  if (out.threshold === undefined) {
    if (ok) problem(at, `${where} has no threshold expression; add threshold: 'p(95)<200' (for example)`);
    return undefined;
  }
  return ok ? { ...out, threshold: out.threshold } : undefined;
}

function readTags(value: Value, at: Loc, problem: (at: Loc, message: string) => void): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Unknown) {
    problem(value.at, `options.tags are ${value.what} and cannot be read statically; ${TAGS_HINT}`);
    return undefined;
  }
  if (!(value instanceof Obj)) {
    problem(at, `options.tags must be an object of tag name to string, got ${show(value)}`);
    return undefined;
  }
  let ok = true;
  for (const o of value.opaque) {
    problem(o.unknown.at, `options.tags contain ${o.unknown.what}, which cannot be read statically; ${TAGS_HINT}`);
    ok = false;
  }
  const out: Record<string, string> = {};
  for (const [key, { value: v, at: keyAt }] of value.props) {
    const where = `options.tags.${/^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`}`;
    if (RESERVED_TAGS.includes(key)) {
      problem(keyAt, `${where} is reserved: the platform sets the ${key} tag on every runner, a script must not override it; remove it`);
      ok = false;
    } else if (v instanceof Unknown) {
      problem(v.at, `${where} is ${v.what} and cannot be read statically; ${TAGS_HINT}`);
      ok = false;
    } else if (typeof v !== 'string') {
      // lib/options.go RunTags is map[string]string: k6 refuses a number or boolean too.
      if (v === undefined) continue; // JSON drops it, as k6 does
      problem(keyAt, `${where} must be a string (k6 tags are strings), got ${show(v)}; ${TAGS_HINT}`);
      ok = false;
    } else {
      out[key] = v;
    }
  }
  return ok ? out : undefined;
}

/** The name of a property as a string, when it is known. */
function propertyName(name: ts.PropertyName, evaluate: (e: ts.Expression) => Value): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name) || ts.isPrivateIdentifier(name)) return name.text;
  if (ts.isNumericLiteral(name)) return String(Number(name.text));
  if (ts.isComputedPropertyName(name)) {
    const v = evaluate(name.expression);
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  }
  return undefined;
}

/** What an expression the reader cannot evaluate is, in words. */
function describe(node: ts.Expression): string {
  const text = node.getText().replace(/\s+/g, ' ');
  const short = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  if (/\b__ENV\b/.test(text)) return `read from __ENV (${short}), only known at run time`;
  if (ts.isCallExpression(node) || ts.isNewExpression(node)) return `a function call (${short})`;
  if (ts.isConditionalExpression(node) || ts.isBinaryExpression(node)) return `computed (${short})`;
  if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) return `a property of another value (${short})`;
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) return 'a function';
  return `computed (${short})`;
}

function show(v: Value): string {
  if (v instanceof Obj) return 'an object';
  if (v instanceof Unknown) return v.what;
  if (Array.isArray(v)) return 'a list';
  return v === undefined ? 'undefined' : JSON.stringify(v);
}

/**
 * The thresholds that judge a run: the test's config thresholds plus the script's own `options.thresholds`, key by key
 * (where both name a key, every expression of both lists must hold). k6 would replace one map by the other wholesale
 * (k6 v1.7.1 lib/options.go `Apply`); the platform judges both, so none is ever lost silently.
 */
export function judgedThresholds<C, S>(
  config: Readonly<Record<string, readonly C[]>>,
  script: Readonly<Record<string, readonly S[]>> | undefined,
): Record<string, (C | S)[]> {
  const merged: Record<string, (C | S)[]> = {};
  for (const [key, list] of Object.entries(config)) merged[key] = [...list];
  for (const [key, list] of Object.entries(script ?? {})) merged[key] = [...(merged[key] ?? []), ...list];
  return merged;
}

/**
 * Fails with every problem of a script's options that would make the platform lose the script's thresholds or tags,
 * or let the script override a run tag: `<label>: <file>:<line>: <message>` per problem.
 */
export function assertScriptOptionsReadable(options: ScriptOptions, entry: string, label: string): void {
  if (options.problems.length === 0) return;
  throw new Error(options.problems.map((p) => `${label}: ${p.file ?? entry}:${p.line}: ${p.message}`).join('\n'));
}
