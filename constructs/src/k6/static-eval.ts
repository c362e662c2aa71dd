/**
 * The static evaluation of a k6 script's values over its syntax tree (script-syntax.ts), without running the script: literals, arrays,
 * object literals with spreads, template literals, and top-level `const` bindings followed through the bundle's local
 * imports. k6 reads `options` as JSON (k6 v1.7.1 internal/js/bundle.go `populateExports`), so JSON-shaped values are
 * all that is evaluated; anything else is an {@link Unknown} that says what it is and where.
 */
import {
  dotName,
  identifierName,
  isCall,
  isMember,
  isObjectMethodCall,
  lineOf,
  moduleExportName,
  parseScript,
  stringValue,
  textOf,
  type Member,
  type ParsedScript,
  type t,
} from './script-syntax';

/** Where something is: a file of the bundle and a 1-based line. */
export interface Loc {
  readonly file: string;
  readonly line: number;
}

/** A value the reader could not evaluate: where and what it is. */
export class Unknown {
  public constructor(
    public readonly at: Loc,
    public readonly what: string,
  ) {}
}

/** An object literal: its known properties (with where each is set), and spreads that could not be read. */
export class Obj {
  public readonly props = new Map<string, { value: Value; at: Loc }>();
  /** A spread that could not be read, and which properties were set after it (those are known to win). */
  public readonly opaque: { unknown: Unknown; laterKeys: Set<string> }[] = [];
  public set(key: string, value: Value, at: Loc): void {
    this.props.set(key, { value, at });
    for (const o of this.opaque) o.laterKeys.add(key);
  }
}

/** A JSON-shaped value as evaluated, or an {@link Unknown} where it could not be. */
export type Value = string | number | boolean | null | undefined | Value[] | Obj | Unknown;

/** One parsed file: its top-level declarations, imports and exports. */
export interface FileContext {
  readonly file: string;
  readonly script: ParsedScript;
  readonly declarations: Map<string, { decl: t.VariableDeclarator; isConst: boolean }>;
  /** Local name -> where it is imported from (`*` for a namespace import). */
  readonly imports: Map<string, { specifier: string; name: string }>;
  /** Exported name -> local name. */
  readonly exports: Map<string, string>;
  /** Exported name -> re-export from another module. */
  readonly reExports: Map<string, { specifier: string; name: string; at: number }>;
}

/**
 * Parses one file of the bundle and indexes its top-level declarations, imports and exports. A file that cannot be
 * parsed has none (the bundle's scan reports its syntax error).
 */
export function parseFile(file: string, source: string): FileContext {
  const script = parseScript(source, file);
  const ctx: FileContext = { file, script, declarations: new Map(), imports: new Map(), exports: new Map(), reExports: new Map() };
  for (const st of script.program.body) {
    if (st.type === 'VariableDeclaration') addVariables(ctx, st, false);
    else if (st.type === 'ExportNamedDeclaration' && st.declaration?.type === 'VariableDeclaration') addVariables(ctx, st.declaration, true);
    else if (st.type === 'ImportDeclaration' && st.importKind !== 'type' && st.importKind !== 'typeof') {
      const specifier = st.source.value;
      for (const el of st.specifiers) {
        const name = el.type === 'ImportDefaultSpecifier' ? 'default' : el.type === 'ImportNamespaceSpecifier' ? '*' : moduleExportName(el.imported);
        ctx.imports.set(el.local.name, { specifier, name });
      }
    } else if (st.type === 'ExportNamedDeclaration' && st.declaration == null && st.exportKind !== 'type') {
      for (const el of st.specifiers) {
        if (el.type !== 'ExportSpecifier') continue; // `export * as ns from` is not followed
        const local = moduleExportName(el.local);
        const exported = moduleExportName(el.exported);
        if (st.source) ctx.reExports.set(exported, { specifier: st.source.value, name: local, at: lineOf(st) });
        else ctx.exports.set(exported, local);
      }
    }
  }
  return ctx;
}

/** Indexes the names of a top-level `const`/`let`/`var` statement (destructuring patterns aside). */
function addVariables(ctx: FileContext, st: t.VariableDeclaration, exported: boolean): void {
  for (const decl of st.declarations) {
    if (decl.id.type !== 'Identifier') continue;
    ctx.declarations.set(decl.id.name, { decl, isConst: st.kind === 'const' });
    if (exported) ctx.exports.set(decl.id.name, decl.id.name);
  }
}

/**
 * The source of another file a script imports (`specifier` as written in `from`), or undefined when it is not at hand
 * (a single file is read, or the module is not local).
 */
export type ModuleLoader = (from: string, specifier: string) => { file: string; source: string } | undefined;

/**
 * Evaluates expressions of a bundle's files statically: literals, top-level `const` bindings and imports of the
 * modules `load` finds. What cannot be evaluated is an {@link Unknown} with its place, never an exception.
 */
export class StaticEvaluator {
  private readonly contexts = new Map<string, FileContext | undefined>();
  private readonly evaluating = new Set<string>();

  public constructor(
    /** The entry script. */
    public readonly entry: FileContext,
    private readonly load: ModuleLoader,
    /** The entry's local name exported as `options`: read even when it is not a const, as k6 reads it. */
    private readonly optionsLocal: string | undefined,
  ) {
    this.contexts.set(entry.file, entry);
  }

  /** Where a node of a file is. */
  public loc(ctx: FileContext, node: t.Node): Loc {
    return { file: ctx.file, line: lineOf(node) };
  }

  /** The value a module exports under `name`; `at` is where it is asked for (the import). */
  public exported(ctx: FileContext, name: string, at: Loc, depth = 0): Value {
    const local = ctx.exports.get(name);
    if (local !== undefined) return this.binding(ctx, local, at);
    const re = ctx.reExports.get(name);
    if (re !== undefined) return this.imported(ctx, re.specifier, re.name, { file: ctx.file, line: re.at }, depth);
    return new Unknown(at, `${name}, which ${ctx.file} does not export as a top-level variable`);
  }

  private imported(ctx: FileContext, specifier: string, name: string, at: Loc, depth = 0): Value {
    const what = `${name === '*' ? 'the module' : name === 'default' ? 'the default export' : name} imported from ${JSON.stringify(specifier)}`;
    const target = depth < 10 ? this.load(ctx.file, specifier) : undefined;
    if (target === undefined) return new Unknown(at, what);
    if (!this.contexts.has(target.file)) this.contexts.set(target.file, parseFile(target.file, target.source));
    const tctx = this.contexts.get(target.file)!;
    if (name === '*') {
      const ns = new Obj();
      for (const n of [...tctx.exports.keys(), ...tctx.reExports.keys()]) ns.set(n, this.exported(tctx, n, at, depth + 1), at);
      return ns;
    }
    if (name === 'default') return new Unknown(at, what);
    return this.exported(tctx, name, at, depth + 1);
  }

  /** The value of a top-level name of `ctx` (a const, or an import). */
  private binding(ctx: FileContext, name: string, at: Loc): Value {
    const key = `${ctx.file}\0${name}`;
    const d = ctx.declarations.get(name);
    if (d !== undefined) {
      const isOptions = ctx === this.entry && name === this.optionsLocal;
      if (!d.isConst && !isOptions) return new Unknown(at, `${name}, which is not a const`);
      const init = d.decl.init;
      if (init === null || init === undefined) return new Unknown(this.loc(ctx, d.decl), `declared without a value (${name})`);
      return this.guarded(key, at, name, () => this.evaluate(ctx, init));
    }
    const imp = ctx.imports.get(name);
    if (imp !== undefined) return this.guarded(key, at, name, () => this.imported(ctx, imp.specifier, imp.name, at));
    return new Unknown(at, `the identifier ${name}`);
  }

  /** Evaluates a binding once at a time: a binding met again while it is evaluated refers to itself. */
  private guarded(key: string, at: Loc, name: string, run: () => Value): Value {
    if (this.evaluating.has(key)) return new Unknown(at, `${name}, which refers to itself`);
    this.evaluating.add(key);
    try {
      return run();
    } finally {
      this.evaluating.delete(key);
    }
  }

  /** The value of an expression of `ctx`. */
  public evaluate(ctx: FileContext, node: t.Node): Value {
    const at = this.loc(ctx, node);
    switch (node.type) {
      case 'ParenthesizedExpression':
      case 'TSAsExpression':
      case 'TSSatisfiesExpression':
      case 'TSNonNullExpression':
      case 'TSTypeAssertion':
        return this.evaluate(ctx, node.expression);
      case 'TemplateLiteral':
        if (node.expressions.length > 0) return this.template(ctx, node);
        break;
      case 'Identifier':
        return node.name === 'undefined' ? undefined : this.binding(ctx, node.name, at);
      case 'ArrayExpression':
        return this.array(ctx, node);
      case 'ObjectExpression':
        return this.object(ctx, node);
    }
    const literal = literalValue(node);
    if (literal !== NOT_LITERAL) return literal;
    if (isMember(node) && (!node.computed || stringValue(node.property) !== undefined)) return this.access(ctx, node, at);
    if (isObjectMethodCall(node, 'freeze') && node.arguments.length === 1) return this.evaluate(ctx, node.arguments[0]!);
    return new Unknown(at, describe(ctx.script, node));
  }

  private template(ctx: FileContext, node: t.TemplateLiteral): Value {
    let text = node.quasis[0]!.value.cooked ?? '';
    for (const [i, expression] of node.expressions.entries()) {
      const v = this.evaluate(ctx, expression);
      if (typeof v !== 'string' && typeof v !== 'number') {
        return v instanceof Unknown ? v : new Unknown(this.loc(ctx, expression), 'a template literal with a substitution that is not a constant');
      }
      text += String(v) + (node.quasis[i + 1]!.value.cooked ?? '');
    }
    return text;
  }

  private access(ctx: FileContext, node: Member, at: Loc): Value {
    if (/\b__ENV\b/.test(textOf(ctx.script, node))) return new Unknown(at, describe(ctx.script, node));
    const key = node.computed ? stringValue(node.property)! : dotName(node)!;
    const base = this.evaluate(ctx, node.object);
    if (base instanceof Obj) {
      const own = base.props.get(key);
      if (base.opaque.some((o) => !o.laterKeys.has(key))) return new Unknown(at, describe(ctx.script, node));
      return own?.value;
    }
    return base instanceof Unknown ? base : new Unknown(at, describe(ctx.script, node));
  }

  private array(ctx: FileContext, node: t.ArrayExpression): Value {
    const out: Value[] = [];
    for (const el of node.elements) {
      if (el === null) {
        out.push(undefined);
      } else if (el.type === 'SpreadElement') {
        const v = this.evaluate(ctx, el.argument);
        if (Array.isArray(v)) out.push(...v);
        else return v instanceof Unknown ? v : new Unknown(this.loc(ctx, el), 'a spread of something that is not an array');
      } else {
        out.push(this.evaluate(ctx, el));
      }
    }
    return out;
  }

  private object(ctx: FileContext, node: t.ObjectExpression): Value {
    const obj = new Obj();
    for (const p of node.properties) {
      const pat = this.loc(ctx, p);
      if (p.type === 'SpreadElement') {
        const v = this.evaluate(ctx, p.argument);
        if (v instanceof Obj) {
          for (const [k, e] of v.props) obj.set(k, e.value, e.at);
          obj.opaque.push(...v.opaque.map((o) => ({ unknown: o.unknown, laterKeys: new Set(o.laterKeys) })));
        } else if (v instanceof Unknown) {
          obj.opaque.push({ unknown: new Unknown(pat, `a spread of ${v.what}`), laterKeys: new Set() });
        } // spreading a primitive, null or undefined adds nothing
        continue;
      }
      const key = propertyName(p, (e) => this.evaluate(ctx, e));
      if (key === undefined) {
        obj.opaque.push({ unknown: new Unknown(pat, 'a computed property name'), laterKeys: new Set() });
        continue;
      }
      if (p.type === 'ObjectProperty') obj.set(key, this.evaluate(ctx, p.value), pat);
      else obj.set(key, new Unknown(pat, 'a method or accessor'), pat);
    }
    return obj;
  }
}

/** Marks an expression that is not a literal. */
const NOT_LITERAL: unique symbol = Symbol('not a literal');

/** The value of a string, number, boolean or null literal (a signed number too). */
function literalValue(node: t.Node): Value | typeof NOT_LITERAL {
  const text = stringValue(node);
  if (text !== undefined) return text;
  if (node.type === 'NumericLiteral') return node.value;
  if (node.type === 'UnaryExpression' && node.argument.type === 'NumericLiteral') {
    if (node.operator === '-') return -node.argument.value;
    if (node.operator === '+') return node.argument.value;
  }
  if (node.type === 'BooleanLiteral') return node.value;
  if (node.type === 'NullLiteral') return null;
  return NOT_LITERAL;
}

/** The name an assignment target is rooted at, with the property path to it (`options.tags['x']` → options, [tags, x]). */
export function assignmentRoot(e: t.Node): { name: string; path: string[] } | undefined {
  const pathOut: string[] = [];
  let cur: t.Node = e;
  for (;;) {
    if (cur.type === 'ParenthesizedExpression' || cur.type === 'TSNonNullExpression') cur = cur.expression;
    else if (isMember(cur)) {
      pathOut.unshift(cur.computed ? (stringValue(cur.property) ?? '?') : (dotName(cur) ?? '?'));
      cur = cur.object;
    } else break;
  }
  const name = identifierName(cur);
  return name !== undefined ? { name, path: pathOut } : undefined;
}

/** The name of an object literal's property as a string, when it is known. */
function propertyName(p: t.ObjectProperty | t.ObjectMethod, evaluate: (e: t.Node) => Value): string | undefined {
  if (p.computed) {
    const v = evaluate(p.key);
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  }
  const key = p.key;
  if (key.type === 'Identifier') return key.name;
  if (key.type === 'StringLiteral') return key.value;
  if (key.type === 'NumericLiteral') return String(key.value);
  return undefined;
}

/** What an expression the reader cannot evaluate is, in words. */
export function describe(script: ParsedScript, node: t.Node): string {
  const text = textOf(script, node).replace(/\s+/g, ' ');
  const short = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  if (/\b__ENV\b/.test(text)) return `read from __ENV (${short}), only known at run time`;
  if (isCall(node) || node.type === 'NewExpression') return `a function call (${short})`;
  if (isMember(node)) return `a property of another value (${short})`;
  if (node.type === 'ArrowFunctionExpression' || node.type === 'FunctionExpression') return 'a function';
  return `computed (${short})`;
}
