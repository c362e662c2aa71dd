import * as ts from 'typescript';
import type { ScriptFile } from './test-scripts';

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
export const RESERVED_TAGS: readonly string[] = ['testid', 'instance_id', 'test'];

const THRESHOLDS_HINT = "declare them in the test's `thresholds` config instead";
const TAGS_HINT = 'declare tags as string literals';
const THRESHOLD_KEYS = new Set(['threshold', 'abortOnFail', 'delayAbortEval']);

/** A value the reader could not evaluate: where and what it is. */
class Unknown {
  public constructor(
    public readonly line: number,
    public readonly what: string,
  ) {}
}

/** An object literal: its known properties (with the line of each), and spreads that could not be read. */
class Obj {
  public readonly props = new Map<string, { value: Value; line: number }>();
  /** A spread that could not be read, and which properties were set after it (those are known to win). */
  public readonly opaque: { unknown: Unknown; laterKeys: Set<string> }[] = [];
  public set(key: string, value: Value, line: number): void {
    this.props.set(key, { value, line });
    for (const o of this.opaque) o.laterKeys.add(key);
  }
}

type Value = string | number | boolean | null | undefined | Value[] | Obj | Unknown;

/**
 * Reads `options.thresholds` and `options.tags` from a k6 script's source.
 *
 * Finds `export const|let|var options = ...` and `export { options }` / `export { o as options }` of a top-level
 * declaration, through `Object.freeze(...)`, parentheses and TypeScript `as`/`satisfies`. Values are read when they are
 * literals: strings, numbers, booleans, `null`, template literals (substitutions only of readable constants), arrays
 * and object literals, with spreads and identifiers of top-level `const` declarations in the same file followed.
 * Anything else (function calls, `__ENV`, other operators, imported values) is a problem with its line, as are
 * values k6 would refuse (a non-string tag, a threshold that is not a list), tags the platform reserves
 * ({@link RESERVED_TAGS}) and later assignments to `options.thresholds` / `options.tags`.
 */
export function readScriptOptions(source: string, fileName: string): ScriptOptions {
  const kind = /\.[mc]?ts$/.test(fileName) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, kind);
  const lineOf = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const problems: ScriptOptionsProblem[] = [];
  const problem = (line: number, message: string) => problems.push({ line, message });

  // Top-level declarations by name (const ones are followed; the options binding may be let/var too).
  const declarations = new Map<string, { decl: ts.VariableDeclaration; isConst: boolean; exported: boolean }>();
  const imported = new Set<string>();
  let exportedAs: string | undefined; // local name of the binding exported as `options`
  let reExport: ts.ExportDeclaration | undefined;
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) {
      const isConst = (st.declarationList.flags & ts.NodeFlags.Const) !== 0;
      const exported = st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) === true;
      for (const decl of st.declarationList.declarations) {
        if (!ts.isIdentifier(decl.name)) continue;
        declarations.set(decl.name.text, { decl, isConst, exported });
        if (exported && decl.name.text === 'options') exportedAs = 'options';
      }
    } else if (ts.isImportDeclaration(st) && st.importClause) {
      const { name, namedBindings } = st.importClause;
      if (name) imported.add(name.text);
      if (namedBindings && ts.isNamespaceImport(namedBindings)) imported.add(namedBindings.name.text);
      if (namedBindings && ts.isNamedImports(namedBindings)) for (const el of namedBindings.elements) imported.add(el.name.text);
    } else if (ts.isExportDeclaration(st) && !st.isTypeOnly && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const el of st.exportClause.elements) {
        if (el.name.text !== 'options') continue;
        if (st.moduleSpecifier) reExport = st;
        else exportedAs = (el.propertyName ?? el.name).text;
      }
    }
  }

  if (reExport !== undefined) {
    const from = ts.isStringLiteral(reExport.moduleSpecifier!) ? reExport.moduleSpecifier.text : '?';
    problem(
      lineOf(reExport),
      `options are re-exported from ${JSON.stringify(from)} and cannot be read from this file; declare \`export const options = {...}\` in the entry script, or ${THRESHOLDS_HINT}`,
    );
    return { problems };
  }
  if (exportedAs === undefined) return { problems };
  const binding = declarations.get(exportedAs);
  if (binding === undefined) {
    const where = sf.statements.find((st) => ts.isExportDeclaration(st)) ?? sf;
    const what = imported.has(exportedAs) ? `imported as ${exportedAs}` : `not a top-level variable (${exportedAs})`;
    problem(lineOf(where), `the exported options are ${what} and cannot be read statically; ${THRESHOLDS_HINT}`);
    return { problems };
  }
  if (binding.decl.initializer === undefined) {
    problem(lineOf(binding.decl), `options are declared without a value and cannot be read statically; ${THRESHOLDS_HINT}`);
    return { problems };
  }

  const evaluating = new Set<string>();
  const evaluate = (node: ts.Expression): Value => {
    const line = lineOf(node);
    if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isNonNullExpression(node)) {
      return evaluate(node.expression);
    }
    if (ts.isTypeAssertionExpression(node)) return evaluate(node.expression);
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
        const v = evaluate(span.expression);
        if (typeof v !== 'string' && typeof v !== 'number') {
          return v instanceof Unknown ? v : new Unknown(lineOf(span.expression), 'a template literal with a substitution that is not a constant');
        }
        text += String(v) + span.literal.text;
      }
      return text;
    }
    if (ts.isIdentifier(node)) {
      if (node.text === 'undefined') return undefined;
      const d = declarations.get(node.text);
      if (d === undefined) {
        return new Unknown(line, imported.has(node.text) ? `the imported value ${node.text}` : `the identifier ${node.text}`);
      }
      if (!d.isConst) return new Unknown(line, `${node.text}, which is not a const`);
      if (d.decl.initializer === undefined || evaluating.has(node.text)) return new Unknown(line, `the identifier ${node.text}`);
      evaluating.add(node.text);
      try {
        return evaluate(d.decl.initializer);
      } finally {
        evaluating.delete(node.text);
      }
    }
    if (ts.isArrayLiteralExpression(node)) {
      const out: Value[] = [];
      for (const el of node.elements) {
        if (ts.isSpreadElement(el)) {
          const v = evaluate(el.expression);
          if (Array.isArray(v)) out.push(...v);
          else return v instanceof Unknown ? v : new Unknown(lineOf(el), 'a spread of something that is not an array');
        } else if (ts.isOmittedExpression(el)) {
          out.push(undefined);
        } else {
          out.push(evaluate(el));
        }
      }
      return out;
    }
    if (ts.isObjectLiteralExpression(node)) {
      const obj = new Obj();
      for (const p of node.properties) {
        if (ts.isSpreadAssignment(p)) {
          const v = evaluate(p.expression);
          if (v instanceof Obj) {
            for (const [k, e] of v.props) obj.set(k, e.value, e.line);
            obj.opaque.push(...v.opaque.map((o) => ({ unknown: o.unknown, laterKeys: new Set(o.laterKeys) })));
          } else if (v instanceof Unknown) {
            obj.opaque.push({ unknown: new Unknown(lineOf(p), `a spread of ${v.what}`), laterKeys: new Set() });
          } // spreading a primitive, null or undefined adds nothing
          continue;
        }
        const key = p.name === undefined ? undefined : propertyName(p.name, evaluate);
        if (key === undefined) {
          obj.opaque.push({ unknown: new Unknown(lineOf(p), 'a computed property name'), laterKeys: new Set() });
          continue;
        }
        if (ts.isPropertyAssignment(p)) obj.set(key, evaluate(p.initializer), lineOf(p));
        else if (ts.isShorthandPropertyAssignment(p)) obj.set(key, evaluate(p.name), lineOf(p));
        else obj.set(key, new Unknown(lineOf(p), 'a method or accessor'), lineOf(p));
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
      return evaluate(node.arguments[0]!);
    }
    return new Unknown(line, describe(node));
  };

  const options = evaluate(binding.decl.initializer);
  const optionsLine = lineOf(binding.decl);
  let thresholds: Record<string, ScriptThreshold[]> | undefined;
  let tags: Record<string, string> | undefined;
  if (options instanceof Unknown) {
    problem(options.line, `options are ${options.what} and cannot be read statically; ${THRESHOLDS_HINT}, and ${TAGS_HINT}`);
  } else if (options instanceof Obj) {
    // A spread that could not be read may set thresholds or tags, unless they are set after it.
    const hides = (o: Obj['opaque'][number], name: string) => !o.laterKeys.has(name);
    for (const o of options.opaque) {
      const hidden = (['thresholds', 'tags'] as const).filter((n) => hides(o, n));
      if (hidden.length === 0) continue;
      const hint = hidden.length === 2 ? `${THRESHOLDS_HINT}, and ${TAGS_HINT}` : hidden[0] === 'tags' ? TAGS_HINT : THRESHOLDS_HINT;
      problem(
        o.unknown.line,
        `options contain ${o.unknown.what}, which may set ${hidden.map((n) => `options.${n}`).join(' or ')} and cannot be read statically; ${hint}`,
      );
    }
    const field = (name: 'thresholds' | 'tags') => (options.opaque.some((o) => hides(o, name)) ? undefined : options.props.get(name));
    const t = field('thresholds');
    if (t !== undefined) thresholds = readThresholds(t.value, t.line, problem);
    const g = field('tags');
    if (g !== undefined) tags = readTags(g.value, g.line, problem);
  } else if (options !== undefined && options !== null) {
    problem(optionsLine, `options must be an object, got ${JSON.stringify(options)}`);
  }

  // Later changes to the options binding (options.tags.team = ..., options = {...}, Object.assign(options, ...)).
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
    if (r === undefined || r.name !== exportedAs) return;
    const first = r.path[0];
    if (first !== undefined && first !== 'thresholds' && first !== 'tags') return;
    const what = first === undefined ? 'options' : `options.${first}`;
    problem(
      lineOf(node),
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
  walk(sf);

  return { ...(thresholds !== undefined ? { thresholds } : {}), ...(tags !== undefined ? { tags } : {}), problems };
}

/** The options of a bundle's entry script (the first file of {@link TestScripts.files}). */
export function entryScriptOptions(bundle: { readonly files: readonly ScriptFile[] }): ScriptOptions {
  const entry = bundle.files[0];
  if (entry === undefined || entry.binary) return { problems: [] };
  return readScriptOptions(entry.content, entry.path);
}

function readThresholds(value: Value, line: number, problem: (line: number, message: string) => void): Record<string, ScriptThreshold[]> | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Unknown) {
    problem(value.line, `options.thresholds are ${value.what} and cannot be read statically; ${THRESHOLDS_HINT}`);
    return undefined;
  }
  if (!(value instanceof Obj)) {
    problem(line, `options.thresholds must be an object of metric name to a list of thresholds, got ${show(value)}`);
    return undefined;
  }
  for (const o of value.opaque) {
    problem(o.unknown.line, `options.thresholds contain ${o.unknown.what}, which cannot be read statically; ${THRESHOLDS_HINT}`);
  }
  const out: Record<string, ScriptThreshold[]> = {};
  let ok = value.opaque.length === 0;
  for (const [metric, { value: list, line: at }] of value.props) {
    const where = `options.thresholds[${JSON.stringify(metric)}]`;
    if (list instanceof Unknown) {
      problem(list.line, `${where} is ${list.what} and cannot be read statically; ${THRESHOLDS_HINT}`);
      ok = false;
      continue;
    }
    if (!Array.isArray(list)) {
      // metrics/thresholds.go Thresholds.UnmarshalJSON decodes a list: a lone string fails in k6 too.
      problem(at, `${where} must be a list of thresholds (k6 refuses anything else), got ${show(list)}; write [${show(list)}]`);
      ok = false;
      continue;
    }
    const items: ScriptThreshold[] = [];
    list.forEach((item, i) => {
      const t = readThreshold(item, at, `${where}[${i}]`, problem);
      if (t === undefined) ok = false;
      else items.push(t);
    });
    out[metric] = items;
  }
  return ok ? out : undefined;
}

function readThreshold(item: Value, line: number, where: string, problem: (line: number, message: string) => void): ScriptThreshold | undefined {
  if (typeof item === 'string') return item;
  if (item instanceof Unknown) {
    problem(item.line, `${where} is ${item.what} and cannot be read statically; ${THRESHOLDS_HINT}`);
    return undefined;
  }
  if (!(item instanceof Obj)) {
    problem(line, `${where} must be a threshold expression string or { threshold, abortOnFail, delayAbortEval }, got ${show(item)}`);
    return undefined;
  }
  let ok = true;
  for (const o of item.opaque) {
    problem(o.unknown.line, `${where} contains ${o.unknown.what}, which cannot be read statically; ${THRESHOLDS_HINT}`);
    ok = false;
  }
  const out: { threshold?: string; abortOnFail?: boolean; delayAbortEval?: string | number } = {};
  for (const [key, { value, line: at }] of item.props) {
    if (value instanceof Unknown) {
      problem(value.line, `${where}.${key} is ${value.what} and cannot be read statically; ${THRESHOLDS_HINT}`);
      ok = false;
    } else if (!THRESHOLD_KEYS.has(key)) {
      // k6 decodes the object leniently (metrics/thresholds.go rawThresholdConfig): a misspelt key is silently ignored.
      problem(at, `${where} has the unknown key ${JSON.stringify(key)} (k6 ignores it); use threshold, abortOnFail and delayAbortEval`);
      ok = false;
    } else if (key === 'threshold' && typeof value === 'string') out.threshold = value;
    else if (key === 'abortOnFail' && typeof value === 'boolean') out.abortOnFail = value;
    else if (key === 'delayAbortEval' && (typeof value === 'string' || typeof value === 'number')) out.delayAbortEval = value;
    else if (value !== undefined && !(key === 'delayAbortEval' && value === null)) {
      const want = key === 'threshold' ? 'a string' : key === 'abortOnFail' ? 'a boolean' : 'a duration string or milliseconds';
      problem(at, `${where}.${key} must be ${want}, got ${show(value)}`);
      ok = false;
    }
  }
  if (out.threshold === undefined) {
    if (ok) problem(line, `${where} has no threshold expression; add threshold: 'p(95)<200' (for example)`);
    return undefined;
  }
  return ok ? { ...out, threshold: out.threshold } : undefined;
}

function readTags(value: Value, line: number, problem: (line: number, message: string) => void): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Unknown) {
    problem(value.line, `options.tags are ${value.what} and cannot be read statically; ${TAGS_HINT}`);
    return undefined;
  }
  if (!(value instanceof Obj)) {
    problem(line, `options.tags must be an object of tag name to string, got ${show(value)}`);
    return undefined;
  }
  let ok = true;
  for (const o of value.opaque) {
    problem(o.unknown.line, `options.tags contain ${o.unknown.what}, which cannot be read statically; ${TAGS_HINT}`);
    ok = false;
  }
  const out: Record<string, string> = {};
  for (const [key, { value: v, line: at }] of value.props) {
    const where = `options.tags.${/^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`}`;
    if (RESERVED_TAGS.includes(key)) {
      problem(at, `${where} is reserved: the platform sets the ${key} tag on every runner, a script must not override it; remove it`);
      ok = false;
    } else if (v instanceof Unknown) {
      problem(v.line, `${where} is ${v.what} and cannot be read statically; ${TAGS_HINT}`);
      ok = false;
    } else if (typeof v !== 'string') {
      // lib/options.go RunTags is map[string]string: k6 refuses a number or boolean too.
      if (v === undefined) continue; // JSON drops it, as k6 does
      problem(at, `${where} must be a string (k6 tags are strings), got ${show(v)}; ${TAGS_HINT}`);
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
