import type { z } from 'zod';
import { platformConfigSchema, type PlatformConfig } from './schema';

/**
 * Parsing a platform config, and its errors: every problem collected, each line naming the field as the caller typed
 * it, the value received (never a secret) and what is allowed.
 */

/** Where the configuration came from; decides how field paths are named in errors. */
export interface ConfigSource {
  /** Shown before the problems, e.g. `Pulumi.dev.yaml`. @default "platform config" */
  readonly description?: string;
  /** Prefix of top-level keys, e.g. `k6platform:` for Pulumi stack config. @default "" */
  readonly keyPrefix?: string;
}

/** Thrown when a configuration is invalid; `problems` holds one line per bad field. */
export class PlatformConfigError extends Error {
  public constructor(
    public readonly problems: readonly string[],
    source: string,
  ) {
    super(`Invalid ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlatformConfigError';
  }
}

/**
 * Parses and defaults one environment's configuration. Collects every problem and throws once with all of them;
 * each names the field path as the caller typed it, the value received and what is allowed.
 */
export function parsePlatformConfig(input: unknown, source: ConfigSource = {}): PlatformConfig {
  const result = platformConfigSchema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, source.keyPrefix ?? ''));
  throw new PlatformConfigError(problems, source.description ?? 'platform config');
}

/**
 * One `'<path>' <rule>, got <value>` line per issue of a schema that is part of the platform config (e.g. `testSchema`
 * parsed on its own by a construct). `schemaPath` is where that schema sits in the config (`['tests', 0]`), for hints;
 * `at` is where the parsed value sits as the caller typed it (`['test']` names a field `'test.parallelism'`).
 */
export function describeIssues(error: z.ZodError, schemaPath: readonly PropertyKey[] = [], at: readonly PropertyKey[] = []): string[] {
  return error.issues.flatMap((issue) => describeIssue(issue, '', schemaPath, at));
}

/** Renders a path as the caller would type it: `tests[0].parallelism`, optionally `k6platform:tests[0]...`. */
export function formatPath(path: readonly PropertyKey[], keyPrefix = ''): string {
  let out = '';
  path.forEach((seg, i) => {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += i === 0 ? `${keyPrefix}${String(seg)}` : `.${String(seg)}`;
  });
  return out === '' ? '(root)' : out;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  keyPrefix: string,
  schemaPath: readonly PropertyKey[] = [],
  at: readonly PropertyKey[] = [],
): string[] {
  const where = (p: readonly PropertyKey[]) => `'${formatPath([...at, ...p], keyPrefix)}'`;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt([...schemaPath, ...issue.path]);
    return issue.keys.map(
      (k) =>
        `${where([...issue.path, k])} is not a known setting${allowed.length ? ` (allowed here: ${allowed.map((a) => `${keyPrefix && issue.path.length === 0 ? keyPrefix : ''}${a}`).join(', ')})` : ''}`,
    );
  }
  const secret = issue.path.some((seg) => typeof seg === 'string' && SECRET_FIELDS.includes(seg));
  const got = !('input' in issue) ? '' : secret ? shownSecretInput(issue.input, issue.path) : `, got ${show(issue.input)}`;
  return [`${where(issue.path)} ${ruleOf(issue)}${got}`];
}

/** Fields below which a value may be a secret pasted by mistake: errors there never print it. */
export const SECRET_FIELDS: readonly string[] = ['secretEnv', 'remoteWriteAuth', 'passwordSecret', 'tokenSecret', 'caSecret', 'clientCertSecret'];
/** Keys of a Secret reference that are not secret and help to find the mistake. */
const REFERENCE_KEYS = ['type', 'name', 'key'];

/** `, got <value>` for a value under a secret field: strings other than reference names are masked. */
function shownSecretInput(input: unknown, path: readonly PropertyKey[]): string {
  if (input === undefined) return ', got nothing';
  if (typeof input === 'string') {
    const [parent, last] = path.slice(-2);
    return parent !== 'secretEnv' && typeof last === 'string' && REFERENCE_KEYS.includes(last) ? `, got ${show(input)}` : '';
  }
  const mask = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') return key !== undefined && REFERENCE_KEYS.includes(key) ? v : '***';
    if (Array.isArray(v)) return v.map((x) => mask(x));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x, k)]));
    return v;
  };
  return `, got ${show(mask(input))}`;
}

function ruleOf(issue: z.core.$ZodIssue): string {
  if (issue.message.startsWith('must')) return issue.message;
  switch (issue.code) {
    case 'invalid_key': {
      const inner = issue.issues.find((i) => i.message.startsWith('must'));
      return inner?.message ?? 'is not an allowed key';
    }
    case 'invalid_type':
      return issue.input === undefined
        ? `is required (${issue.expected})`
        : `must be ${issue.expected === 'object' || issue.expected === 'array' ? `an ${issue.expected}` : `a ${issue.expected}`}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'does not match any allowed form';
    case 'too_small':
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}${issue.origin === 'string' ? ' characters long' : issue.origin === 'array' ? ' items' : ''}`;
    case 'too_big':
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}${issue.origin === 'string' ? ' characters long' : issue.origin === 'array' ? ' items' : ''}`;
    default:
      return issue.message;
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The keys an object schema accepts at `path`, for "unknown key" hints. */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.core.$ZodType = platformConfigSchema;
  for (const seg of path) {
    schema = unwrap(schema);
    const def = schema._zod.def as unknown as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
    if (def.type === 'object' && def.shape && typeof seg === 'string' && seg in def.shape) schema = def.shape[seg]!;
    else if (def.type === 'array' && def.element && typeof seg === 'number') schema = def.element;
    else return [];
  }
  const def = unwrap(schema)._zod.def as unknown as { type: string; shape?: Record<string, unknown> };
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema;
  for (;;) {
    const def = s._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
}
