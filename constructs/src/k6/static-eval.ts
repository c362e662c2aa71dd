/**
 * The static evaluation of a k6 script's values over the TypeScript AST, without running the script: literals, arrays,
 * object literals with spreads, template literals, and top-level `const` bindings followed through the bundle's local
 * imports. k6 reads `options` as JSON (k6 v1.7.1 internal/js/bundle.go `populateExports`), so JSON-shaped values are
 * all that is evaluated; anything else is an {@link Unknown} that says what it is and where.
 */
import * as ts from 'typescript';

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
  readonly sf: ts.SourceFile;
  readonly declarations: Map<string, { decl: ts.VariableDeclaration; isConst: boolean }>;
  /** Local name -> where it is imported from (`*` for a namespace import). */
  readonly imports: Map<string, { specifier: string; name: string }>;
  /** Exported name -> local name. */
  readonly exports: Map<string, string>;
  /** Exported name -> re-export from another module. */
  readonly reExports: Map<string, { specifier: string; name: string; at: number }>;
}

/** Parses one file of the bundle and indexes its top-level declarations, imports and exports. */
export function parseFile(file: string, source: string): FileContext {
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

/** The 1-based line a node starts on. */
export function lineIn(sf: ts.SourceFile, node: ts.Node): number {
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
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
  public loc(ctx: FileContext, node: ts.Node): Loc {
    return { file: ctx.file, line: lineIn(ctx.sf, node) };
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
      if (d.decl.initializer === undefined) return new Unknown(this.loc(ctx, d.decl), `declared without a value (${name})`);
      const init = d.decl.initializer;
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
  public evaluate(ctx: FileContext, node: ts.Expression): Value {
    const at = this.loc(ctx, node);
    if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isNonNullExpression(node)) {
      return this.evaluate(ctx, node.expression);
    }
    if (ts.isTypeAssertionExpression(node)) return this.evaluate(ctx, node.expression);
    const literal = literalValue(node);
    if (literal !== NOT_LITERAL) return literal;
    if (ts.isTemplateExpression(node)) return this.template(ctx, node);
    if (ts.isIdentifier(node)) return node.text === 'undefined' ? undefined : this.binding(ctx, node.text, at);
    if (ts.isPropertyAccessExpression(node) || (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression))) {
      return this.access(ctx, node, at);
    }
    if (ts.isArrayLiteralExpression(node)) return this.array(ctx, node);
    if (ts.isObjectLiteralExpression(node)) return this.object(ctx, node);
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === 'Object' &&
      node.expression.name.text === 'freeze' &&
      node.arguments.length === 1
    ) {
      return this.evaluate(ctx, node.arguments[0]!);
    }
    return new Unknown(at, describe(node));
  }

  private template(ctx: FileContext, node: ts.TemplateExpression): Value {
    let text = node.head.text;
    for (const span of node.templateSpans) {
      const v = this.evaluate(ctx, span.expression);
      if (typeof v !== 'string' && typeof v !== 'number') {
        return v instanceof Unknown
          ? v
          : new Unknown(this.loc(ctx, span.expression), 'a template literal with a substitution that is not a constant');
      }
      text += String(v) + span.literal.text;
    }
    return text;
  }

  private access(ctx: FileContext, node: ts.PropertyAccessExpression | ts.ElementAccessExpression, at: Loc): Value {
    if (/\b__ENV\b/.test(node.getText())) return new Unknown(at, describe(node));
    const key = ts.isPropertyAccessExpression(node) ? node.name.text : (node.argumentExpression as ts.StringLiteralLike).text;
    const base = this.evaluate(ctx, node.expression);
    if (base instanceof Obj) {
      const own = base.props.get(key);
      if (base.opaque.some((o) => !o.laterKeys.has(key))) return new Unknown(at, describe(node));
      return own?.value;
    }
    return base instanceof Unknown ? base : new Unknown(at, describe(node));
  }

  private array(ctx: FileContext, node: ts.ArrayLiteralExpression): Value {
    const out: Value[] = [];
    for (const el of node.elements) {
      if (ts.isSpreadElement(el)) {
        const v = this.evaluate(ctx, el.expression);
        if (Array.isArray(v)) out.push(...v);
        else return v instanceof Unknown ? v : new Unknown(this.loc(ctx, el), 'a spread of something that is not an array');
      } else if (ts.isOmittedExpression(el)) {
        out.push(undefined);
      } else {
        out.push(this.evaluate(ctx, el));
      }
    }
    return out;
  }

  private object(ctx: FileContext, node: ts.ObjectLiteralExpression): Value {
    const obj = new Obj();
    for (const p of node.properties) {
      const pat = this.loc(ctx, p);
      if (ts.isSpreadAssignment(p)) {
        const v = this.evaluate(ctx, p.expression);
        if (v instanceof Obj) {
          for (const [k, e] of v.props) obj.set(k, e.value, e.at);
          obj.opaque.push(...v.opaque.map((o) => ({ unknown: o.unknown, laterKeys: new Set(o.laterKeys) })));
        } else if (v instanceof Unknown) {
          obj.opaque.push({ unknown: new Unknown(pat, `a spread of ${v.what}`), laterKeys: new Set() });
        } // spreading a primitive, null or undefined adds nothing
        continue;
      }
      const key = p.name === undefined ? undefined : propertyName(p.name, (e) => this.evaluate(ctx, e));
      if (key === undefined) {
        obj.opaque.push({ unknown: new Unknown(pat, 'a computed property name'), laterKeys: new Set() });
        continue;
      }
      if (ts.isPropertyAssignment(p)) obj.set(key, this.evaluate(ctx, p.initializer), pat);
      else if (ts.isShorthandPropertyAssignment(p)) obj.set(key, this.evaluate(ctx, p.name), pat);
      else obj.set(key, new Unknown(pat, 'a method or accessor'), pat);
    }
    return obj;
  }
}

/** Marks an expression that is not a literal. */
const NOT_LITERAL: unique symbol = Symbol('not a literal');

/** The value of a string, number, boolean or null literal (a signed number too). */
function literalValue(node: ts.Expression): Value | typeof NOT_LITERAL {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isPrefixUnaryExpression(node) && ts.isNumericLiteral(node.operand)) {
    if (node.operator === ts.SyntaxKind.MinusToken) return -Number(node.operand.text);
    if (node.operator === ts.SyntaxKind.PlusToken) return Number(node.operand.text);
  }
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (node.kind === ts.SyntaxKind.NullKeyword) return null;
  return NOT_LITERAL;
}

/** The name an assignment target is rooted at, with the property path to it (`options.tags['x']` → options, [tags, x]). */
export function assignmentRoot(e: ts.Expression): { name: string; path: string[] } | undefined {
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
export function describe(node: ts.Expression): string {
  const text = node.getText().replace(/\s+/g, ' ');
  const short = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  if (/\b__ENV\b/.test(text)) return `read from __ENV (${short}), only known at run time`;
  if (ts.isCallExpression(node) || ts.isNewExpression(node)) return `a function call (${short})`;
  if (ts.isConditionalExpression(node) || ts.isBinaryExpression(node)) return `computed (${short})`;
  if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) return `a property of another value (${short})`;
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) return 'a function';
  return `computed (${short})`;
}
