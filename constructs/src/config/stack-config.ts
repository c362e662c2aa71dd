import * as YAML from 'yaml';
import { parsePlatformConfig, PlatformConfigError, type ConfigSource } from './parse';
import type { PlatformConfig } from './schema';

/** Stack configuration (Pulumi.<env>.yaml): one file per environment, read by synth and by Pulumi alike. */

/** The Pulumi project name; stack config keys are `k6platform:<key>`. */
export const CONFIG_NAMESPACE = 'k6platform';

/**
 * Stack config keys that only the deployment (Pulumi) reads: provider settings and secrets. They are not part of the
 * platform config, so synth ignores them; any other unknown `k6platform:` key is an error.
 */
export const DEPLOY_ONLY_KEYS: readonly string[] = [
  'kubeconfig',
  'context',
  'grafanaAdminPassword',
  'remoteWriteUsername',
  'remoteWritePassword',
  'remoteWriteToken',
];

/**
 * Config namespaces a stack may hold keys of: this program's, and those of the Pulumi providers it uses. A key in any
 * other namespace is a typo (`k6platfrom:tests`) that would otherwise be ignored; add a namespace here when the
 * program starts to use another provider.
 */
export const KNOWN_CONFIG_NAMESPACES: readonly string[] = [CONFIG_NAMESPACE, 'kubernetes', 'docker-build', 'pulumi'];

/**
 * Builds the platform config input from stack config entries (`{'k6platform:monitoring': {...}}`). Keys of the other
 * {@link KNOWN_CONFIG_NAMESPACES} (`kubernetes:context`) and {@link DEPLOY_ONLY_KEYS} are skipped. String values that
 * hold JSON objects or arrays (as `pulumi.runtime.allConfig()` returns them) are parsed. The environment defaults to
 * the stack name.
 *
 * A key in an unknown namespace and a JSON string that does not parse are problems: pushed to `problems` when given,
 * else thrown as one {@link PlatformConfigError}. Neither message shows the value.
 */
export function platformInputFromStackConfig(
  entries: Readonly<Record<string, unknown>>,
  stack: string,
  problems?: string[],
): Record<string, unknown> {
  const found: string[] = [];
  const input: Record<string, unknown> = { environment: stack };
  for (const [fullKey, raw] of Object.entries(entries)) {
    const [ns, key] = fullKey.includes(':')
      ? [fullKey.slice(0, fullKey.indexOf(':')), fullKey.slice(fullKey.indexOf(':') + 1)]
      : [CONFIG_NAMESPACE, fullKey];
    if (!KNOWN_CONFIG_NAMESPACES.includes(ns)) {
      const near = closest(ns, KNOWN_CONFIG_NAMESPACES);
      found.push(
        `'${fullKey}' is in an unknown config namespace "${ns}"${near !== undefined ? ` (did you mean '${near}:${key}'?)` : ''}; known namespaces: ${KNOWN_CONFIG_NAMESPACES.join(', ')}`,
      );
      continue;
    }
    if (ns !== CONFIG_NAMESPACE || DEPLOY_ONLY_KEYS.includes(key)) continue;
    if (typeof raw === 'string' && /^\s*[[{]/.test(raw)) {
      try {
        input[key] = JSON.parse(raw);
      } catch (e) {
        // The parser's message quotes the text; say only where it breaks.
        const msg = e instanceof Error ? e.message : '';
        const at = /at position (\d+)/.exec(msg)?.[1];
        const why = at !== undefined ? `it breaks at character ${at}` : /end of JSON/.test(msg) ? 'it ends too early' : 'it does not parse';
        found.push(`'${fullKey}' must be valid JSON (a value starting with "{" or "[" is read as JSON): ${why}`);
      }
    } else input[key] = raw;
  }
  if (problems !== undefined) problems.push(...found);
  else if (found.length > 0) throw new PlatformConfigError(found, `stack config of ${stack}`);
  return input;
}

/**
 * Stack config entries to the validated platform config: `platformInputFromStackConfig`, then
 * {@link parsePlatformConfig}. Every problem of both steps is thrown together as one {@link PlatformConfigError}.
 */
export function parseStackConfig(entries: Readonly<Record<string, unknown>>, stack: string, source: ConfigSource): PlatformConfig {
  const problems: string[] = [];
  const input = platformInputFromStackConfig(entries, stack, problems);
  try {
    const cfg = parsePlatformConfig(input, source);
    if (problems.length === 0) return cfg;
  } catch (e) {
    if (!(e instanceof PlatformConfigError)) throw e;
    problems.push(...e.problems);
  }
  throw new PlatformConfigError(problems, source.description ?? 'platform config');
}

/** Top-level keys of a Pulumi stack file (`Pulumi.<stack>.yaml`). */
export const STACK_FILE_KEYS: readonly string[] = ['config', 'encryptionsalt', 'secretsprovider', 'encryptedkey', 'environment'];

/**
 * The config entries of a stack file's text (`config:` of `Pulumi.<stack>.yaml`), read as Pulumi reads it: YAML with
 * merge keys (`<<: *anchor`). Throws a {@link PlatformConfigError} when the YAML does not parse (each problem as
 * `<file>:<line>:<column>: <reason>`, never the text itself), when the document is not a mapping with a `config:`
 * mapping, or when it has a top-level key Pulumi does not know.
 */
export function stackFileEntries(text: string, file: string): Record<string, unknown> {
  const doc = YAML.parseDocument(text, { merge: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new PlatformConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const reason = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${reason}`;
      }),
      file,
    );
  }
  const value: unknown = doc.toJS({ maxAliasCount: 1000 });
  const kind = (v: unknown) => (v === null || v === undefined ? 'nothing' : Array.isArray(v) ? 'a list' : `a ${typeof v}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PlatformConfigError([`${file} must be a YAML mapping with a "config:" section (Pulumi stack settings), got ${kind(value)}`], file);
  }
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (!STACK_FILE_KEYS.includes(key)) {
      const near = closest(key, STACK_FILE_KEYS);
      problems.push(
        `'${key}' is not a stack file setting${near !== undefined ? ` (did you mean '${near}'?)` : ''}; allowed: ${STACK_FILE_KEYS.join(', ')}`,
      );
    }
  }
  const config = (value as Record<string, unknown>).config;
  if (!('config' in value)) problems.push(`${file} must have a "config:" section (the stack's settings, keys such as ${CONFIG_NAMESPACE}:tests)`);
  else if (config !== null && (typeof config !== 'object' || Array.isArray(config))) {
    problems.push(`'config' must be a mapping of keys such as ${CONFIG_NAMESPACE}:tests to values, got ${kind(config)}`);
  }
  if (problems.length > 0) throw new PlatformConfigError(problems, file);
  return (config ?? {}) as Record<string, unknown>;
}

/** The candidate within edit distance 2 of `word` (typos such as `k6platfrom`), if there is one. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= 2 && (best === undefined || d < best.d)) best = { c, d };
  }
  return best?.c;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
