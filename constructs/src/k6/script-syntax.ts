/**
 * The syntax tree of one k6 script (JavaScript or TypeScript), as the static readers walk it: parsed with
 * `@babel/parser` (one file, no runtime dependencies) rather than the TypeScript compiler, so reading a script's
 * imports and `options` costs a few milliseconds of module loading instead of the compiler's.
 */
import { parse } from '@babel/parser';
import type * as t from '@babel/types';

export type { t };

/** A parsed script: its tree, and the message of a syntax error that stopped the parser (the tree is then empty). Shared between readers: never changed. */
export interface ParsedScript {
  readonly program: t.Program;
  readonly source: string;
  readonly syntaxError?: { readonly line: number; readonly message: string };
}

/** TypeScript sources by extension, as k6 and esbuild tell them apart. */
const TS_FILE = /\.[mc]?ts$/;

/**
 * Remembers what `read` makes of a script by its language (JS or TS) and source, for readers whose result depends on
 * nothing else. A synth reads the same scripts (three times each: imports, options, tag writes) for every test and
 * environment that uses them. Bounded so that a long-lived process (a watch, a test run) does not keep every script
 * it saw. The results are shared: callers never change them.
 */
export function perSource<T>(read: (source: string, fileName: string) => T): (source: string, fileName: string) => T {
  const known = new Map<string, T>();
  return (source, fileName) => {
    const key = `${TS_FILE.test(fileName) ? 'ts' : 'js'}\0${source}`;
    if (known.has(key)) return known.get(key)!;
    const result = read(source, fileName);
    if (known.size >= PER_SOURCE_LIMIT) known.clear();
    known.set(key, result);
    return result;
  };
}
const PER_SOURCE_LIMIT = 256;

/**
 * Parses a k6 script leniently, as the TypeScript compiler used to: an ES module that may also use CommonJS
 * (`require`, top-level `return`), with recoverable errors (a duplicate declaration, a strict-mode slip) left to k6.
 * Parentheses stay nodes of their own so that lines and source text of an expression include them.
 */
export const parseScript: (source: string, fileName: string) => ParsedScript = perSource((source, fileName) =>
  parseUncached(source, TS_FILE.test(fileName)),
);

function parseUncached(source: string, ts: boolean): ParsedScript {
  try {
    const file = parse(source, {
      sourceType: 'module',
      errorRecovery: true,
      createParenthesizedExpressions: true,
      allowReturnOutsideFunction: true,
      allowAwaitOutsideFunction: true,
      allowImportExportEverywhere: true,
      allowNewTargetOutsideFunction: true,
      allowSuperOutsideMethod: true,
      allowUndeclaredExports: true,
      // Decorators parse in both languages, as they did with the TypeScript compiler (esbuild, which k6 uses, takes them).
      plugins: ts ? ['typescript', 'decorators-legacy'] : ['decorators-legacy'],
    });
    return { program: file.program, source };
  } catch (e) {
    const err = e as Error & { loc?: { line: number } };
    const message = err.message.replace(/\s*\(\d+:\d+\)$/, '');
    return { program: emptyProgram(), source, syntaxError: { line: err.loc?.line ?? 1, message } };
  }
}

function emptyProgram(): t.Program {
  return { type: 'Program', body: [], directives: [], sourceType: 'module', start: 0, end: 0, loc: null } as unknown as t.Program;
}

/** The 1-based line a node starts on. */
export function lineOf(node: t.Node): number {
  return node.loc?.start.line ?? 1;
}

/** The source text of a node. */
export function textOf(script: ParsedScript, node: t.Node): string {
  return script.source.slice(node.start ?? 0, node.end ?? 0);
}

/** Keys of a Babel node that hold no child nodes (positions, comments, parser extras). */
const NOT_CHILDREN = new Set(['loc', 'start', 'end', 'range', 'extra', 'leadingComments', 'trailingComments', 'innerComments']);

function isNode(v: unknown): v is t.Node {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

/** The child nodes of a node in source order (types included, as the walkers never mind them). */
export function childrenOf(node: t.Node): t.Node[] {
  const out: t.Node[] = [];
  let sorted = true;
  const add = (v: t.Node) => {
    if (out.length > 0 && (v.start ?? 0) < (out[out.length - 1]!.start ?? 0)) sorted = false;
    out.push(v);
  };
  const fields = node as unknown as Record<string, unknown>;
  for (const key in fields) {
    const value = fields[key];
    if (typeof value !== 'object' || value === null || NOT_CHILDREN.has(key)) continue;
    if (Array.isArray(value)) {
      for (const v of value) if (isNode(v)) add(v);
    } else if (isNode(value)) add(value);
  }
  // Babel sets most nodes' fields in source order already; the few others (decorators, type parameters) are sorted.
  return sorted ? out : out.sort((x, y) => (x.start ?? 0) - (y.start ?? 0));
}

/** A string literal or a template literal without substitutions: its value, else undefined. */
export function stringValue(node: t.Node | null | undefined): string | undefined {
  if (node === null || node === undefined) return undefined;
  if (node.type === 'StringLiteral') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? undefined;
  return undefined;
}

/** An identifier's name, else undefined. */
export function identifierName(node: t.Node | null | undefined): string | undefined {
  return node?.type === 'Identifier' ? node.name : undefined;
}

/** A property access (`a.b`, `a?.b`, `a['b']`, `a?.['b']`). */
export type Member = t.MemberExpression | t.OptionalMemberExpression;

export function isMember(node: t.Node | null | undefined): node is Member {
  return node?.type === 'MemberExpression' || node?.type === 'OptionalMemberExpression';
}

/** The name of `a.b` (dot access, private names as `#b`), else undefined. */
export function dotName(node: Member): string | undefined {
  if (node.computed) return undefined;
  if (node.property.type === 'PrivateName') return `#${node.property.id.name}`;
  return identifierName(node.property);
}

/** A call (`f()`, `a?.b()`). */
export type Call = t.CallExpression | t.OptionalCallExpression;

export function isCall(node: t.Node | null | undefined): node is Call {
  return node?.type === 'CallExpression' || node?.type === 'OptionalCallExpression';
}

/** Whether a call is `Object.<method>(...)`. */
export function isObjectMethodCall(node: t.Node, method: string): node is Call {
  return isCall(node) && isMember(node.callee) && identifierName(node.callee.object) === 'Object' && dotName(node.callee) === method;
}

/** Nodes whose body runs later than the code around them: functions, methods, accessors and class static blocks. */
const FUNCTION_LIKE = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
  'ObjectMethod',
  'ClassMethod',
  'ClassPrivateMethod',
  'StaticBlock',
  'TSDeclareFunction',
  'TSDeclareMethod',
]);

export function isFunctionLike(node: t.Node): boolean {
  return FUNCTION_LIKE.has(node.type);
}

/** The name an import or export specifier names: an identifier or a string (`import { "a-b" as c }`). */
export function moduleExportName(node: t.Identifier | t.StringLiteral): string {
  return node.type === 'Identifier' ? node.name : node.value;
}

/** Calls `visit` for every node under `root` (itself included), in source order, with its parent and grandparent. */
export function forEachNode(root: t.Node, visit: (node: t.Node, parent?: t.Node, grandparent?: t.Node) => void): void {
  const walk = (node: t.Node, parent?: t.Node, grandparent?: t.Node): void => {
    visit(node, parent, grandparent);
    for (const child of childrenOf(node)) walk(child, node, parent);
  };
  walk(root);
}
