import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import * as ts from 'typescript';
import { LABELS } from './labels';

/** Kubernetes refuses ConfigMaps whose data exceeds 1 MiB. */
export const CONFIG_MAP_LIMIT_BYTES = 1024 * 1024;
/** Where runners mount the scripts. */
export const SCRIPTS_MOUNT_PATH = '/scripts';
/** Valid ConfigMap data key. */
const KEY = /^[-._a-zA-Z0-9]+$/;
/** Separator standing for "/" in ConfigMap keys (keys cannot hold "/"; volume items map them back to paths). */
const DIR_SEPARATOR = '__';

/** One file of a script bundle. */
export interface ScriptFile {
  /** Path relative to the scripts directory, with "/" separators (`lib/helpers.js`). */
  readonly path: string;
  /** ConfigMap data key (`lib__helpers.js`). */
  readonly key: string;
  /** File content. */
  readonly content: string;
}

/** Props of {@link TestScripts}. */
export interface TestScriptsProps {
  /** Test name, used in the ConfigMap name. */
  readonly testName: string;
  /**
   * Entry script, relative to `scriptsDir`.
   * @example "sample.js"
   */
  readonly entry: string;
  /** Directory holding the scripts; nothing outside it is bundled. */
  readonly scriptsDir: string;
  /** Namespace of the ConfigMap. @default - the chart's namespace */
  readonly namespace?: string;
}

/**
 * A test's entry script plus the local modules and files it imports (transitively), as ONE immutable ConfigMap whose
 * name carries a content hash: a running test never sees an edited script, and an edited script makes a new ConfigMap.
 *
 * Remote modules (`https://jslib.k6.io/...`) and k6 built-ins (`k6`, `k6/http`, `k6/x/...`) are left to k6. Local files
 * read with `open('./data.json')` (a string literal) are bundled too.
 */
export class TestScripts extends Construct {
  /** The ConfigMap (immutable, name `k6-<test>-<hash>`). */
  public readonly configMap: kplus.ConfigMap;
  /** Every bundled file, entry first. */
  public readonly files: readonly ScriptFile[];
  /** Content hash (12 hex characters) of all bundled files. */
  public readonly hash: string;
  /** Path of the entry script inside the runner (`/scripts/sample.js`). */
  public readonly entryPath: string;
  /** Total bytes of keys and values, as counted against the 1 MiB limit. */
  public readonly sizeBytes: number;

  public constructor(scope: Construct, id: string, props: TestScriptsProps) {
    super(scope, id);
    this.files = bundleScripts(props.scriptsDir, props.entry);
    this.sizeBytes = this.files.reduce((n, f) => n + Buffer.byteLength(f.key) + Buffer.byteLength(f.content), 0);
    if (this.sizeBytes > CONFIG_MAP_LIMIT_BYTES) {
      throw new Error(
        `TestScripts: 'script' ${props.entry} bundles ${this.files.length} files of ${this.sizeBytes} bytes, over the ConfigMap limit of ${CONFIG_MAP_LIMIT_BYTES} bytes (1 MiB); ` +
          'move large data out of the bundle (e.g. fetch it from a URL in setup())',
      );
    }
    this.hash = hashFiles(this.files);
    this.entryPath = `${SCRIPTS_MOUNT_PATH}/${this.files[0]!.path}`;
    this.configMap = new kplus.ConfigMap(this, 'Resource', {
      metadata: {
        name: `k6-${props.testName}-${this.hash}`,
        ...(props.namespace !== undefined ? { namespace: props.namespace } : {}),
        labels: { [LABELS.component]: 'test-script', [LABELS.test]: props.testName },
        annotations: { 'k6.platform/entry': this.files[0]!.path },
      },
      immutable: true,
      data: Object.fromEntries(this.files.map((f) => [f.key, f.content])),
    });
  }

  /** Volume items mapping each ConfigMap key back to its relative path, so imports resolve inside the runner. */
  public get volumeItems(): Record<string, kplus.PathMapping> {
    return Object.fromEntries(this.files.map((f) => [f.key, { path: f.path }]));
  }
}

/**
 * Resolves an entry script and every local file it imports, transitively. Throws a clear error for a missing file, an
 * import escaping the scripts directory, or a path that cannot become a ConfigMap key.
 */
export function bundleScripts(scriptsDir: string, entry: string): ScriptFile[] {
  const root = realpathOrThrow(scriptsDir, `TestScripts: 'scriptsDir' ${scriptsDir} does not exist`);
  const entryAbs = path.resolve(root, entry);
  if (!isInside(root, entryAbs)) {
    throw new Error(`TestScripts: 'script' ${entry} is outside the scripts directory ${scriptsDir}; scripts must live under it`);
  }
  if (!existsSync(entryAbs) || !statSync(entryAbs).isFile()) {
    throw new Error(`TestScripts: 'script' ${entry} not found in ${scriptsDir} (looked for ${entryAbs})`);
  }
  const files = new Map<string, ScriptFile>();
  const byKey = new Map<string, string>();
  const visit = (abs: string, importedBy: string | undefined) => {
    const real = realpathSync(abs);
    if (!isInside(root, real)) {
      throw new Error(
        `TestScripts: '${importedBy ?? entry}' imports ${path.relative(root, abs)}, which resolves outside the scripts directory ${scriptsDir}`,
      );
    }
    const rel = path.relative(root, abs).split(path.sep).join('/');
    if (files.has(rel)) return;
    const key = rel.split('/').join(DIR_SEPARATOR);
    if (!KEY.test(key) || key.length > 253) {
      throw new Error(
        `TestScripts: file '${rel}' cannot be a ConfigMap key (${JSON.stringify(key)}); file and folder names may only use letters, digits, "-", "_" and "."`,
      );
    }
    const clash = byKey.get(key);
    if (clash !== undefined) {
      throw new Error(`TestScripts: files '${clash}' and '${rel}' map to the same ConfigMap key ${JSON.stringify(key)}; rename one`);
    }
    byKey.set(key, rel);
    const content = readFileSync(abs, 'utf8');
    files.set(rel, { path: rel, key, content });
    if (!/\.(m?js|ts|cjs)$/.test(rel)) return; // data file: no imports
    for (const spec of localReferences(content, rel)) {
      const target = path.resolve(path.dirname(abs), spec);
      if (!isInside(root, target)) {
        throw new Error(`TestScripts: '${rel}' imports ${JSON.stringify(spec)}, which escapes the scripts directory ${scriptsDir}`);
      }
      if (!existsSync(target) || !statSync(target).isFile()) {
        throw new Error(`TestScripts: '${rel}' imports ${JSON.stringify(spec)}, which does not exist (looked for ${target})`);
      }
      visit(target, rel);
    }
  };
  visit(entryAbs, undefined);
  return [...files.values()];
}

/** Relative specifiers a k6 script loads: static/dynamic imports, re-exports, require() and open() of literals. */
export function localReferences(source: string, fileName: string): string[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, fileName.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const found: string[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node) && /^\.\.?\//.test(node.text)) found.push(node.text);
  };
  const walk = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      if (!(ts.isImportDeclaration(node) && node.importClause?.isTypeOnly)) add(node.moduleSpecifier);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isLoader =
        callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && (callee.text === 'require' || callee.text === 'open'));
      if (isLoader) add(node.arguments[0]);
    }
    ts.forEachChild(node, walk);
  };
  walk(sf);
  return found;
}

function hashFiles(files: readonly ScriptFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) h.update(`${f.path}\0${f.content}\0`);
  return h.digest('hex').slice(0, 12);
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function realpathOrThrow(p: string, message: string): string {
  try {
    return realpathSync(p);
  } catch {
    throw new Error(message);
  }
}
