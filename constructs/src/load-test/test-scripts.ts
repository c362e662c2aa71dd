import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import * as ts from 'typescript';
import { LABELS } from '../contract/labels';
import { entryScriptOptions, type ScriptOptions } from '../k6/script-options';

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
  /** File content: the text of a UTF-8 file; for a binary file, its bytes in base64 (as stored in `binaryData`). */
  readonly content: string;
  /** The file is not valid UTF-8 (e.g. an image read with `open(path, 'b')`) and is stored in the ConfigMap's `binaryData`. */
  readonly binary: boolean;
  /** Size of the file in bytes (raw bytes, not base64). */
  readonly sizeBytes: number;
}

/** A k6 module (`k6`, `k6/...`, `k6/x/...`) or a remote module (`https://...`) one bundled file imports. */
export interface ScriptModuleImport {
  /** Module specifier as written (`k6/http`, `k6/x/faker`, `https://jslib.k6.io/k6-utils/1.4.0/index.js`). */
  readonly module: string;
  /** Bundled file that imports it, relative to the scripts directory (`lib/data.js`). */
  readonly file: string;
  /** 1-based line of the import in `file`. */
  readonly line: number;
}

/** What {@link bundleScriptTree} found for one entry script. */
export interface ScriptBundle {
  /** Every bundled file, entry first. */
  readonly files: readonly ScriptFile[];
  /** Every import of a k6 module (`k6`, `k6/...`, `k6/x/...`) by a bundled file, in the order found. */
  readonly modules: readonly ScriptModuleImport[];
  /** Every remote (`https://`) import by a bundled file: not bundled, k6 fetches them when the test starts. */
  readonly remoteModules: readonly ScriptModuleImport[];
  /** Things the bundle could not check and the user may know better about (e.g. an absolute `open()` path). */
  readonly warnings: readonly string[];
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
 * Bundled, resolved the way k6 v1.7.1 resolves them:
 * - local modules: `import`/`export ... from`, dynamic `import()` and `require()` of `./` and `../` paths, relative to
 *   the importing file;
 * - files read with the init-context `open(path[, 'b'])`, relative to the file that calls it (also `open('data.csv')`
 *   without `./`, `file://` paths and `open(import.meta.resolve('./data.csv'))`);
 * - files opened with `open()` of `k6/experimental/fs`, relative to the entry script;
 * - gRPC protos of `client.load([importPaths], ...files)` and the protos they import (searched in the import paths,
 *   which are relative to the entry script), and `client.loadProtoset(file)`.
 *
 * Files that are not valid UTF-8 go to the ConfigMap's `binaryData` (base64), so `open(path, 'b')` reads the exact bytes.
 * A path computed at run time cannot be bundled and fails the synth with the file and line.
 *
 * Remote modules (`https://jslib.k6.io/...`) are not bundled: k6 fetches them when the test starts, so runners need
 * egress to their host. k6 built-ins (`k6`, `k6/http`) and extensions (`k6/x/...`) are left to k6; {@link TestScripts.modules}
 * lists them so the runner image can be checked against them.
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
  /** Total bytes of keys and (raw) file contents, as counted against the 1 MiB limit. */
  public readonly sizeBytes: number;
  /** Every import of a k6 module (`k6/http`, `k6/browser`, `k6/x/faker`) by a bundled file, with file and line. */
  public readonly modules: readonly ScriptModuleImport[];
  /** Every remote (`https://`) import by a bundled file; k6 fetches these when the test starts. */
  public readonly remoteModules: readonly ScriptModuleImport[];
  /** Things the bundle could not check (e.g. an absolute `open()` path, which must exist in the runner image). */
  public readonly warnings: readonly string[];
  /** The entry script's `options.thresholds` and `options.tags`, read statically, with what could not be read ({@link readScriptOptions}). */
  public readonly options: ScriptOptions;

  public constructor(scope: Construct, id: string, props: TestScriptsProps) {
    super(scope, id);
    const bundle = bundleScriptTree(props.scriptsDir, props.entry);
    this.files = bundle.files;
    this.modules = bundle.modules;
    this.remoteModules = bundle.remoteModules;
    this.warnings = bundle.warnings;
    this.options = entryScriptOptions(bundle);
    this.sizeBytes = this.files.reduce((n, f) => n + Buffer.byteLength(f.key) + f.sizeBytes, 0);
    if (this.sizeBytes > CONFIG_MAP_LIMIT_BYTES) {
      throw new Error(
        `TestScripts: 'script' ${props.entry} bundles ${this.files.length} files of ${this.sizeBytes} bytes, over the ConfigMap limit of ${CONFIG_MAP_LIMIT_BYTES} bytes (1 MiB); ` +
          'move large data out of the bundle (e.g. fetch it from a URL in setup())',
      );
    }
    this.hash = hashFiles(this.files);
    this.entryPath = `${SCRIPTS_MOUNT_PATH}/${this.files[0]!.path}`;
    const text = this.files.filter((f) => !f.binary);
    const binary = this.files.filter((f) => f.binary);
    this.configMap = new kplus.ConfigMap(this, 'Resource', {
      metadata: {
        name: `k6-${props.testName}-${this.hash}`,
        ...(props.namespace !== undefined ? { namespace: props.namespace } : {}),
        labels: { [LABELS.component]: 'test-script', [LABELS.test]: props.testName },
        annotations: { 'k6.platform/entry': this.files[0]!.path },
      },
      immutable: true,
      data: Object.fromEntries(text.map((f) => [f.key, f.content])),
      ...(binary.length > 0 ? { binaryData: Object.fromEntries(binary.map((f) => [f.key, f.content])) } : {}),
    });
  }

  /**
   * Volume items mapping each ConfigMap key (of `data` and `binaryData` alike) back to its relative path, so imports
   * and opened files resolve inside the runner.
   */
  public get volumeItems(): Record<string, kplus.PathMapping> {
    return Object.fromEntries(this.files.map((f) => [f.key, { path: f.path }]));
  }
}

/**
 * Resolves an entry script and every local file it imports or opens, transitively (see {@link TestScripts}). Throws a
 * clear error for a missing file, a path escaping the scripts directory, a path that cannot become a ConfigMap key, or
 * a path computed at run time.
 */
export function bundleScripts(scriptsDir: string, entry: string): ScriptFile[] {
  return [...bundleScriptTree(scriptsDir, entry).files];
}

/** Like {@link bundleScripts}, plus the k6 and remote modules the bundled files import and warnings. */
export function bundleScriptTree(scriptsDir: string, entry: string): ScriptBundle {
  const root = realpathOrThrow(scriptsDir, `TestScripts: 'scriptsDir' ${scriptsDir} does not exist`);
  const entryAbs = path.resolve(root, entry);
  if (!isInside(root, entryAbs)) {
    throw new Error(`TestScripts: 'script' ${entry} is outside the scripts directory ${scriptsDir}; scripts must live under it`);
  }
  if (!isFile(entryAbs)) {
    throw new Error(`TestScripts: 'script' ${entry} not found in ${scriptsDir} (looked for ${entryAbs})`);
  }
  // k6 resolves `k6/experimental/fs` open() and gRPC load() paths against the directory of the entry script
  // (InitEnvironment.CWD, which is loader.Dir of the entry's URL: internal/js/bundle.go, v1.7.1).
  const entryDir = path.dirname(entryAbs);
  const files = new Map<string, ScriptFile>();
  const byKey = new Map<string, string>();
  const modules: ScriptModuleImport[] = [];
  const remoteModules: ScriptModuleImport[] = [];
  const warnings: string[] = [];
  const relOf = (abs: string) => path.relative(root, abs).split(path.sep).join('/');

  const add = (abs: string, importedBy: string | undefined): { rel: string; content: Buffer } => {
    const real = realpathSync(abs);
    if (!isInside(root, real)) {
      throw new Error(
        `TestScripts: '${importedBy ?? entry}' imports ${path.relative(root, abs)}, which resolves outside the scripts directory ${scriptsDir}`,
      );
    }
    const rel = relOf(abs);
    const raw = readFileSync(abs);
    if (files.has(rel)) return { rel, content: raw };
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
    const text = utf8(raw);
    files.set(
      rel,
      text !== undefined
        ? { path: rel, key, content: text, binary: false, sizeBytes: raw.length }
        : { path: rel, key, content: raw.toString('base64'), binary: true, sizeBytes: raw.length },
    );
    return { rel, content: raw };
  };

  /** Checks one resolved target (inside scripts/, exists) and adds it; `what` describes the reference for errors. */
  const target = (from: string, what: string, abs: string): string => {
    if (!isInside(root, abs)) {
      throw new Error(`TestScripts: '${from}' ${what}, which escapes the scripts directory ${scriptsDir}`);
    }
    if (!isFile(abs)) throw new Error(`TestScripts: '${from}' ${what}, which does not exist (looked for ${abs})`);
    return add(abs, from).rel;
  };

  const visitProto = (from: string, line: number, importPaths: readonly string[], name: string, seen: Set<string>): void => {
    if (seen.has(name)) return;
    seen.add(name);
    // protocompile SourceResolver.FindFileByPath: the first import path holding the file wins
    // (vendor/github.com/bufbuild/protocompile/resolver.go, k6 v1.7.1).
    const candidates = importPaths.map((p) => path.resolve(p, name));
    const found = candidates.find((c) => isInside(root, c) && isFile(c));
    if (found === undefined) {
      // WithStandardImports supplies google/protobuf/*.proto (descriptor, timestamp, ...) from memory.
      if (name.startsWith('google/protobuf/')) return;
      const where = candidates.map((c) => (isInside(root, c) ? c : `${c} (outside the scripts directory)`)).join(', ');
      throw new Error(`TestScripts: '${from}' line ${line} loads the proto ${JSON.stringify(name)}, which does not exist (looked for ${where})`);
    }
    const { rel, content } = add(found, from);
    for (const imported of protoImports(content.toString('utf8'))) visitProto(rel, line, importPaths, imported, seen);
  };

  const scanned = new Set<string>();
  const visit = (abs: string, importedBy: string | undefined) => {
    const { rel, content } = add(abs, importedBy);
    // Scanned already, or a data file (no imports). A module also open()ed as text is still scanned when imported.
    if (scanned.has(rel) || !SCRIPT_FILE.test(rel)) return;
    scanned.add(rel);
    const dir = path.dirname(abs);
    const scan = scanScript(content.toString('utf8'), rel);
    if (scan.problems.length > 0) {
      throw new Error(scan.problems.map((p) => `TestScripts: '${rel}' line ${p.line}: ${p.message}`).join('\n'));
    }
    for (const m of scan.modules) (m.module.startsWith('https://') ? remoteModules : modules).push({ ...m, file: rel });
    for (const ref of scan.references) {
      const at = `line ${ref.line}`;
      switch (ref.kind) {
        case 'import': {
          const abs2 = path.resolve(dir, ref.path);
          if (!isInside(root, abs2)) {
            throw new Error(`TestScripts: '${rel}' imports ${JSON.stringify(ref.path)}, which escapes the scripts directory ${scriptsDir}`);
          }
          if (!isFile(abs2)) {
            throw new Error(`TestScripts: '${rel}' imports ${JSON.stringify(ref.path)}, which does not exist (looked for ${abs2})`);
          }
          visit(abs2, rel);
          break;
        }
        case 'open':
        case 'fs-open':
        case 'protoset': {
          const p = ref.path.replace(/^file:\/\//, '');
          const call = ref.kind === 'protoset' ? 'loadProtoset()' : 'open()';
          if (path.isAbsolute(p)) {
            warnings.push(
              `TestScripts: '${rel}' ${at}: ${call} of the absolute path ${JSON.stringify(p)} is not bundled; it must exist in the runner image`,
            );
            break;
          }
          // The init-context open() is relative to the module being evaluated (ModuleSystem.CurrentlyRequiredModule,
          // js/modules/require_impl.go, v1.7.1): the calling file for top-level code. A call inside a function of an
          // imported module resolves against the module at the bottom of the call stack (usually the entry script;
          // k6 warns about it), so both places are tried there. experimental/fs open() and gRPC files use the entry's
          // directory (internal/js/modules/k6/experimental/fs/module.go, js/common/initenv.go, v1.7.1).
          const bases = ref.viaResolve ? [dir] : ref.kind !== 'open' ? [entryDir] : ref.inFunction && dir !== entryDir ? [dir, entryDir] : [dir];
          const candidates = bases.map((b) => path.resolve(b, p));
          const existing = candidates.filter((c) => isInside(root, c) && isFile(c));
          if (existing.length === 0) {
            target(rel, `${at} opens ${JSON.stringify(ref.path)} with ${call}`, candidates[0]!);
          }
          for (const c of existing) add(c, rel);
          break;
        }
        case 'grpc': {
          const importPaths = (ref.importPaths.length > 0 ? ref.importPaths : ['.']).map((p) => path.resolve(entryDir, p.replace(/^file:\/\//, '')));
          const seen = new Set<string>();
          for (const name of ref.files) visitProto(rel, ref.line, importPaths, name, seen);
          break;
        }
      }
    }
  };
  visit(entryAbs, undefined);
  return { files: [...files.values()], modules, remoteModules, warnings };
}

/**
 * Local paths a k6 script loads: relative static/dynamic imports, re-exports and require()s, and the literal paths of
 * open() (init context and `k6/experimental/fs`), gRPC `load()` files and `loadProtoset()`, as written.
 */
export function localReferences(source: string, fileName: string): string[] {
  return scanScript(source, fileName).references.flatMap((r) => (r.kind === 'grpc' ? r.files : [r.path]));
}

/** A local path one script refers to. */
type ScriptReference =
  | { readonly kind: 'import'; readonly path: string; readonly line: number }
  | {
      /** `open` is the init-context global; `fs-open` the one of `k6/experimental/fs`; `protoset` gRPC `loadProtoset()`. */
      readonly kind: 'open' | 'fs-open' | 'protoset';
      readonly path: string;
      readonly line: number;
      /** The call sits inside a function (its base directory then depends on the caller). */
      readonly inFunction: boolean;
      /** The path came from `import.meta.resolve('<relative>')`: relative to the file it is written in. */
      readonly viaResolve: boolean;
    }
  | { readonly kind: 'grpc'; readonly importPaths: readonly string[]; readonly files: readonly string[]; readonly line: number };

/** What one script file refers to. */
interface ScriptScan {
  readonly references: ScriptReference[];
  /** `k6`, `k6/...` and `https://` modules it imports. */
  readonly modules: { readonly module: string; readonly line: number }[];
  /** References that cannot be resolved statically (computed paths). */
  readonly problems: { readonly line: number; readonly message: string }[];
}

const SCRIPT_FILE = /\.(m?js|ts|cjs|mts|cts)$/;
const FS_MODULE = 'k6/experimental/fs';
const GRPC_MODULE = 'k6/net/grpc';

function scanScript(source: string, fileName: string): ScriptScan {
  const kind = /\.[mc]?ts$/.test(fileName) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, kind);
  const lineOf = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const references: ScriptReference[] = [];
  const modules: { module: string; line: number }[] = [];
  const problems: { line: number; message: string }[] = [];

  // Which local names stand for experimental/fs open() (named import) or the fs module (namespace/default import),
  // and whether the file uses gRPC at all.
  const fsOpen = new Set<string>();
  const fsModule = new Set<string>();
  let grpc = false;
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    const spec = st.moduleSpecifier.text;
    if (spec === GRPC_MODULE) grpc = true;
    if (spec !== FS_MODULE || st.importClause === undefined) continue;
    const { name, namedBindings } = st.importClause;
    if (name) fsModule.add(name.text);
    if (namedBindings && ts.isNamespaceImport(namedBindings)) fsModule.add(namedBindings.name.text);
    if (namedBindings && ts.isNamedImports(namedBindings)) {
      for (const el of namedBindings.elements) if ((el.propertyName ?? el.name).text === 'open') fsOpen.add(el.name.text);
    }
  }

  const specifier = (node: ts.Node | undefined, line: number) => {
    if (!node || !ts.isStringLiteralLike(node)) return;
    const spec = node.text;
    if (/^\.\.?\//.test(spec)) references.push({ kind: 'import', path: spec, line });
    else if (spec === 'k6' || spec.startsWith('k6/') || spec.startsWith('https://')) modules.push({ module: spec, line });
  };
  /** A literal path argument, or `import.meta.resolve('<literal>')`. */
  const literalPath = (node: ts.Expression | undefined): { path: string; viaResolve: boolean } | undefined => {
    if (node === undefined) return undefined;
    if (ts.isStringLiteralLike(node)) return { path: node.text, viaResolve: false };
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'resolve' &&
      ts.isMetaProperty(node.expression.expression) &&
      node.expression.expression.keywordToken === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      return { path: node.arguments[0].text, viaResolve: true };
    }
    return undefined;
  };
  const computed = (node: ts.Node, call: string, hint: string) =>
    problems.push({ line: lineOf(node), message: `${call} with a computed path cannot be bundled (the file is only known at run time); ${hint}` });

  const walk = (node: ts.Node, inFunction: boolean): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly === true : node.isTypeOnly;
      if (!typeOnly) specifier(node.moduleSpecifier, lineOf(node));
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const line = lineOf(node);
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
        specifier(node.arguments[0], line);
      } else if (
        (ts.isIdentifier(callee) && (callee.text === 'open' || fsOpen.has(callee.text))) ||
        (ts.isPropertyAccessExpression(callee) &&
          ts.isIdentifier(callee.expression) &&
          fsModule.has(callee.expression.text) &&
          callee.name.text === 'open')
      ) {
        const isFs = ts.isPropertyAccessExpression(callee) || fsOpen.has(callee.text);
        const arg = literalPath(node.arguments[0]);
        if (arg !== undefined) references.push({ kind: isFs ? 'fs-open' : 'open', path: arg.path, line, inFunction, viaResolve: arg.viaResolve });
        else if (node.arguments[0] !== undefined) {
          computed(
            node,
            'open()',
            "pass a string literal such as open('./data.csv') or open(import.meta.resolve('./data.csv')) (a helper taking a path can take the opened content instead: parse(open('./data.csv')))",
          );
        }
      } else if (grpc && ts.isPropertyAccessExpression(callee) && callee.name.text === 'loadProtoset' && node.arguments.length === 1) {
        const arg = literalPath(node.arguments[0]);
        if (arg !== undefined) references.push({ kind: 'protoset', path: arg.path, line, inFunction, viaResolve: arg.viaResolve });
        else computed(node, 'gRPC loadProtoset()', "pass a string literal such as client.loadProtoset('./service.protoset')");
      } else if (grpc && ts.isPropertyAccessExpression(callee) && callee.name.text === 'load' && node.arguments.length >= 2) {
        const [first, ...rest] = node.arguments;
        const paths =
          first !== undefined && ts.isArrayLiteralExpression(first)
            ? first.elements.map((e) => (ts.isStringLiteralLike(e) ? e.text : undefined))
            : undefined;
        const nullish = first !== undefined && (first.kind === ts.SyntaxKind.NullKeyword || (ts.isIdentifier(first) && first.text === 'undefined'));
        const files = rest.map((e) => (ts.isStringLiteralLike(e) ? e.text : undefined));
        if ((paths === undefined && !nullish) || paths?.includes(undefined) || files.includes(undefined)) {
          computed(node, 'gRPC load()', "pass literals such as client.load(['./protos'], 'service.proto')");
        } else {
          references.push({ kind: 'grpc', importPaths: (paths ?? []) as string[], files: files as string[], line });
        }
      }
    }
    const fn = ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node);
    ts.forEachChild(node, (child) => walk(child, inFunction || fn));
  };
  walk(sf, false);
  return { references, modules, problems };
}

/** Files a .proto imports (`import "x.proto";`, `import public`/`weak` too), comments and strings aside. */
function protoImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  return [...code.matchAll(/(?:^|[;\s])import\s+(?:(?:public|weak)\s+)?(["'])([^"'\n]+)\1\s*;/g)].map((m) => m[2]!);
}

/** The text of a buffer that is valid UTF-8 (a leading BOM kept), else undefined. */
function utf8(raw: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return undefined;
  }
}

function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}

function hashFiles(files: readonly ScriptFile[]): string {
  const h = createHash('sha256');
  // Text files hash as they always did; a binary file hashes its bytes, marked so it never equals a text file.
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (f.binary) h.update(Buffer.concat([Buffer.from(`${f.path}\0binary\0`), Buffer.from(f.content, 'base64'), Buffer.from('\0')]));
    else h.update(`${f.path}\0${f.content}\0`);
  }
  return h.digest('hex').slice(0, 12);
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function realpathOrThrow(p: string, message: string): string {
  try {
    return realpathSync(p);
  } catch {
    throw new Error(message);
  }
}
