import * as path from 'node:path';
import { RUN_TAGS } from '../contract/labels';
import type { ScriptFile } from '../load-test/test-scripts';
import {
  dotName,
  forEachNode,
  identifierName,
  isMember,
  isObjectMethodCall,
  lineOf,
  parseScript,
  perSource,
  stringValue,
  type t,
} from './script-syntax';
import { assignmentRoot, Obj, parseFile, StaticEvaluator, Unknown, type Loc, type ModuleLoader, type Value } from './static-eval';

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

/**
 * Reads `options.thresholds` and `options.tags` from a k6 script's source.
 *
 * Finds `export const|let|var options = ...` and `export { options }` / `export { o as options }` of a top-level
 * declaration, through `Object.freeze(...)`, parentheses and TypeScript `as`/`satisfies`. Values are read when they are
 * literals: strings, numbers, booleans, `null`, template literals (substitutions only of readable constants), arrays
 * and object literals, with spreads, identifiers and property accesses of top-level `const` declarations in the same
 * file followed (`entryScriptOptions` also follows imports of the bundle's local modules). Anything else
 * (function calls, `__ENV`, other operators, imported values) is a problem with its line, as are values k6 would refuse
 * (a non-string tag, a threshold that is not a list), unknown keys of object-form thresholds, tags the platform
 * reserves (`RESERVED_TAGS`) and later assignments to `options`, `options.thresholds` or `options.tags`.
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
 * Where a script sets a run tag the platform owns (`RESERVED_TAGS`) on its own samples: per-request or per-call
 * tags (`http.get(url, { tags: { testid: 'x' } })`, `check(r, c, { instance_id: '3' })` is not caught: only `tags`
 * objects are) and VU tags (`exec.vu.tags.testid = 'x'`, `exec.vu.metrics.tags['test'] = 'x'`). k6 lets such tags
 * override the run tags on those samples (a sample's tags are the run tags overlaid with the call's), which would
 * move them to another run's verdict; the platform refuses such scripts at synth.
 */
export function reservedTagWrites(source: string, fileName: string): ScriptOptionsProblem[] {
  return [...tagWritesPerSource(source, fileName)];
}

const tagWritesPerSource = perSource((source: string, fileName: string): readonly ScriptOptionsProblem[] => {
  const { program } = parseScript(source, fileName);
  const problems: ScriptOptionsProblem[] = [];
  const report = (node: t.Node, tag: string, how: string) =>
    problems.push({
      line: lineOf(node),
      message: `${how} sets the run tag ${tag}, which the platform sets on every runner and the verdict reads (${RESERVED_TAGS.join(', ')}); use another tag name`,
    });
  forEachNode(program, (node, parent, grandparent) => {
    if (node.type === 'ObjectProperty' && !node.computed && keyName(node.key) === 'tags' && node.value.type === 'ObjectExpression') {
      for (const p of node.value.properties) {
        const tag = p.type === 'ObjectProperty' && !p.computed ? keyName(p.key) : undefined;
        // options.tags is reported by the options reader; per-call tags objects are reported here
        if (tag !== undefined && RESERVED_TAGS.includes(tag) && !isOptionsTags(parent, grandparent)) report(p, tag, 'a tags object');
      }
    }
    if (node.type === 'AssignmentExpression' && node.operator === '=' && isMember(node.left) && isTags(node.left.object)) {
      const target = node.left;
      const tag = target.computed ? keyName(target.property) : dotName(target);
      if (tag !== undefined && RESERVED_TAGS.includes(tag)) report(node, tag, 'an assignment to VU tags');
    }
  });
  return problems;
});

/** A property key or element-access argument as a name: an identifier, a string or a number, as written. */
function keyName(n: t.Node): string | undefined {
  return identifierName(n) ?? stringValue(n) ?? (n.type === 'NumericLiteral' ? String(n.value) : undefined);
}

/** `x.tags` or `tags`: the VU tags object (`exec.vu.tags`, `exec.vu.metrics.tags`). */
function isTags(e: t.Node): boolean {
  return (isMember(e) && dotName(e) === 'tags') || identifierName(e) === 'tags';
}

/** Whether a `tags: {...}` property (in `obj`, declared by `decl`) is the one of `export const options = {...}` (reported by the options reader). */
function isOptionsTags(obj: t.Node | undefined, decl: t.Node | undefined): boolean {
  return obj?.type === 'ObjectExpression' && decl?.type === 'VariableDeclarator' && identifierName(decl.id) === 'options';
}

/** Reads the entry's `options` with the values of `load`'s modules; see {@link readScriptOptions}. */
function readOptions(entryFile: string, source: string, load: ModuleLoader): ScriptOptions {
  const problems: ScriptOptionsProblem[] = [];
  const problem: ReportProblem = (at, message) => problems.push({ line: at.line, message, ...(at.file !== entryFile ? { file: at.file } : {}) });
  const entry = parseFile(entryFile, source);
  // The entry's options binding: a local declaration exported as `options`, or an import re-exported as it.
  const optionsLocal = entry.exports.get('options');
  const optionsRe = entry.reExports.get('options');
  if (optionsLocal === undefined && optionsRe === undefined) return { problems };
  const evaluator = new StaticEvaluator(entry, load, optionsLocal);
  const options = evaluator.exported(entry, 'options', { file: entryFile, line: 1 });
  const { thresholds, tags } = readOptionsValue(options, entryFile, problem);
  for (const change of optionsChanges(source, entryFile)) problem({ file: entryFile, line: change.line }, change.message);
  return { ...(thresholds !== undefined ? { thresholds } : {}), ...(tags !== undefined ? { tags } : {}), problems };
}

/** Reports a problem at a place of the bundle. */
type ReportProblem = (at: Loc, message: string) => void;

/** The thresholds and tags of the evaluated `options`, each left out when a problem touches it. */
function readOptionsValue(
  options: Value,
  entryFile: string,
  problem: ReportProblem,
): { thresholds?: Record<string, ScriptThreshold[]>; tags?: Record<string, string> } {
  if (options instanceof Unknown) {
    const from = /^\S+ imported from (".*")$/.exec(options.what)?.[1];
    const what = from !== undefined ? `imported from ${from}, which is not at hand (not a bundled local module)` : options.what;
    problem(options.at, `options are ${what} and cannot be read statically; ${THRESHOLDS_HINT}, and ${TAGS_HINT}`);
    return {};
  }
  if (!(options instanceof Obj)) {
    if (options !== undefined && options !== null) {
      problem({ file: entryFile, line: 1 }, `options must be an object, got ${JSON.stringify(options)}`);
    }
    return {};
  }
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
  const g = field('tags');
  const thresholds = t !== undefined ? readThresholds(t.value, t.at, problem) : undefined;
  const tags = g !== undefined ? readTags(g.value, g.at, problem) : undefined;
  return { ...(thresholds !== undefined ? { thresholds } : {}), ...(tags !== undefined ? { tags } : {}) };
}

/**
 * Later changes to the entry's options binding (options.tags.team = ..., options = {...}, Object.assign(options, ...)),
 * with their lines; read once per entry source, as the whole file is walked.
 */
const optionsChanges = perSource((source: string, fileName: string): readonly { line: number; message: string }[] => {
  const entry = parseFile(fileName, source);
  // The entry's options binding: a local declaration exported as `options`, or an import re-exported as it.
  const re = entry.reExports.get('options');
  const optionsName =
    entry.exports.get('options') ?? [...entry.imports.entries()].find(([, i]) => i.specifier === re?.specifier && i.name === re.name)?.[0];
  if (optionsName === undefined) return [];
  const changes: { line: number; message: string }[] = [];
  const touched = (target: t.Node, node: t.Node) => {
    const r = assignmentRoot(target);
    if (r === undefined || r.name !== optionsName) return;
    const first = r.path[0];
    if (first !== undefined && first !== 'thresholds' && first !== 'tags') return;
    const what = first === undefined ? 'options' : `options.${first}`;
    changes.push({
      line: lineOf(node),
      message: `${what} is changed after its declaration, which the platform cannot read; ${first === 'tags' ? TAGS_HINT : THRESHOLDS_HINT}`,
    });
  };
  forEachNode(entry.script.program, (node) => {
    if (node.type === 'AssignmentExpression') touched(node.left, node);
    else if (node.type === 'UnaryExpression' && node.operator === 'delete') touched(node.argument, node);
    else if (isObjectMethodCall(node, 'assign') && node.arguments[0] !== undefined) touched(node.arguments[0], node);
  });
  return changes;
});

function readThresholds(value: Value, at: Loc, problem: ReportProblem): Record<string, ScriptThreshold[]> | undefined {
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

function readThreshold(item: Value, at: Loc, where: string, problem: ReportProblem): ScriptThreshold | undefined {
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

function readTags(value: Value, at: Loc, problem: ReportProblem): Record<string, string> | undefined {
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

/** A value as an error message shows it. */
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
