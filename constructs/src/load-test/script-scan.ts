/**
 * What one k6 script refers to, read from its syntax without running it: local imports, the literal paths of open()
 * (init context and `k6/experimental/fs`), gRPC `load()` files and `loadProtoset()`, and the k6 and remote modules it
 * imports. script-files.ts resolves these against the scripts directory.
 */
import {
  childrenOf,
  dotName,
  identifierName,
  isCall,
  isFunctionLike,
  isMember,
  lineOf,
  moduleExportName,
  parseScript,
  perSource,
  stringValue,
  type t,
} from '../k6/script-syntax';

/**
 * Local paths a k6 script loads: relative static/dynamic imports, re-exports and require()s, and the literal paths of
 * open() (init context and `k6/experimental/fs`), gRPC `load()` files and `loadProtoset()`, as written.
 */
export function localReferences(source: string, fileName: string): string[] {
  return scanScript(source, fileName).references.flatMap((r) => (r.kind === 'grpc' ? r.files : [r.path]));
}

/** A local path one script refers to. */
export type ScriptReference =
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
export interface ScriptScan {
  readonly references: ScriptReference[];
  /** `k6`, `k6/...` and `https://` modules it imports. */
  readonly modules: { readonly module: string; readonly line: number }[];
  /** References that cannot be resolved statically (computed paths). */
  readonly problems: { readonly line: number; readonly message: string }[];
}

/** A file the bundle scans for imports (other files are data). */
export const SCRIPT_FILE = /\.(m?js|ts|cjs|mts|cts)$/;
/** The module whose open() reads files relative to the entry script. */
const FS_MODULE = 'k6/experimental/fs';
/** The module whose Client loads protos. */
const GRPC_MODULE = 'k6/net/grpc';

/** What one script file refers to, with the k6 and remote modules it imports. Shared per source: never change it. */
export function scanScript(source: string, fileName: string): ScriptScan {
  return scanPerSource(source, fileName);
}

const scanPerSource = perSource((source: string, fileName: string): ScriptScan => {
  const script = parseScript(source, fileName);
  const scan = new Scanner(script.program);
  if (script.syntaxError !== undefined) {
    // k6 refuses the script too; nothing after the error can be read, so the bundle would miss what it loads.
    const { line, message } = script.syntaxError;
    scan.problems.push({ line, message: `the script cannot be parsed (${message}); fix the syntax error` });
  }
  scan.walk(script.program, false);
  return { references: scan.references, modules: scan.modules, problems: scan.problems };
});

/** Which local names stand for experimental/fs open() (named import) or the fs module (namespace/default import), and whether the file uses gRPC at all. */
function fsAndGrpcBindings(program: t.Program): { fsOpen: Set<string>; fsModule: Set<string>; grpc: boolean } {
  const fsOpen = new Set<string>();
  const fsModule = new Set<string>();
  let grpc = false;
  for (const st of program.body) {
    if (st.type !== 'ImportDeclaration') continue;
    const spec = st.source.value;
    if (spec === GRPC_MODULE) grpc = true;
    if (spec !== FS_MODULE) continue;
    for (const el of st.specifiers) {
      if (el.type !== 'ImportSpecifier') fsModule.add(el.local.name);
      else if (moduleExportName(el.imported) === 'open') fsOpen.add(el.local.name);
    }
  }
  return { fsOpen, fsModule, grpc };
}

/** A literal path argument, or `import.meta.resolve('<literal>')`. */
function literalPath(node: t.Node | undefined): { path: string; viaResolve: boolean } | undefined {
  const literal = stringValue(node);
  if (literal !== undefined) return { path: literal, viaResolve: false };
  if (
    node !== undefined &&
    isCall(node) &&
    isMember(node.callee) &&
    dotName(node.callee) === 'resolve' &&
    node.callee.object.type === 'MetaProperty' &&
    node.callee.object.meta.name === 'import'
  ) {
    const arg = stringValue(node.arguments[0]);
    if (arg !== undefined) return { path: arg, viaResolve: true };
  }
  return undefined;
}

/** Whether an import or export declaration brings in values (not `import type` / `export type`). */
function loadsValues(node: t.Node): node is t.ImportDeclaration | t.ExportNamedDeclaration | t.ExportAllDeclaration {
  if (node.type === 'ImportDeclaration') return node.importKind !== 'type' && node.importKind !== 'typeof';
  if (node.type === 'ExportNamedDeclaration' || node.type === 'ExportAllDeclaration') return node.exportKind !== 'type';
  return false;
}

/** Walks one file, collecting what it refers to. */
class Scanner {
  public readonly references: ScriptReference[] = [];
  public readonly modules: { module: string; line: number }[] = [];
  public readonly problems: { line: number; message: string }[] = [];
  private readonly fsOpen: Set<string>;
  private readonly fsModule: Set<string>;
  private readonly grpc: boolean;

  public constructor(program: t.Program) {
    ({ fsOpen: this.fsOpen, fsModule: this.fsModule, grpc: this.grpc } = fsAndGrpcBindings(program));
  }

  private specifier(node: t.Node | null | undefined, line: number): void {
    const spec = stringValue(node);
    if (spec === undefined) return;
    if (/^\.\.?\//.test(spec)) this.references.push({ kind: 'import', path: spec, line });
    else if (spec === 'k6' || spec.startsWith('k6/') || spec.startsWith('https://')) this.modules.push({ module: spec, line });
  }

  private computed(node: t.Node, call: string, hint: string): void {
    this.problems.push({
      line: lineOf(node),
      message: `${call} with a computed path cannot be bundled (the file is only known at run time); ${hint}`,
    });
  }

  public walk(node: t.Node, inFunction: boolean): void {
    if (loadsValues(node)) this.specifier(node.source, lineOf(node));
    else if (node.type === 'ImportExpression') this.specifier(node.source, lineOf(node));
    else if (isCall(node)) this.call(node, inFunction);
    const fn = isFunctionLike(node);
    for (const child of childrenOf(node)) this.walk(child, inFunction || fn);
  }

  private call(node: t.CallExpression | t.OptionalCallExpression, inFunction: boolean): void {
    const callee = node.callee;
    const line = lineOf(node);
    const calleeName = identifierName(callee);
    const fsMember = isMember(callee) && this.fsModule.has(identifierName(callee.object) ?? '') && dotName(callee) === 'open';
    const method = isMember(callee) ? dotName(callee) : undefined;
    if (callee.type === 'Import' || calleeName === 'require') {
      this.specifier(node.arguments[0], line);
    } else if (calleeName === 'open' || (calleeName !== undefined && this.fsOpen.has(calleeName)) || fsMember) {
      const isFs = isMember(callee) || this.fsOpen.has(calleeName!);
      const arg = literalPath(node.arguments[0]);
      if (arg !== undefined) this.references.push({ kind: isFs ? 'fs-open' : 'open', path: arg.path, line, inFunction, viaResolve: arg.viaResolve });
      else if (node.arguments[0] !== undefined) {
        this.computed(
          node,
          'open()',
          "pass a string literal such as open('./data.csv') or open(import.meta.resolve('./data.csv')) (a helper taking a path can take the opened content instead: parse(open('./data.csv')))",
        );
      }
    } else if (this.grpc && method === 'loadProtoset' && node.arguments.length === 1) {
      const arg = literalPath(node.arguments[0]);
      if (arg !== undefined) this.references.push({ kind: 'protoset', path: arg.path, line, inFunction, viaResolve: arg.viaResolve });
      else this.computed(node, 'gRPC loadProtoset()', "pass a string literal such as client.loadProtoset('./service.protoset')");
    } else if (this.grpc && method === 'load' && node.arguments.length >= 2) {
      this.grpcLoad(node, line);
    }
  }

  private grpcLoad(node: t.CallExpression | t.OptionalCallExpression, line: number): void {
    const [first, ...rest] = node.arguments;
    const paths = first?.type === 'ArrayExpression' ? first.elements.map((e) => stringValue(e)) : undefined;
    const nullish = first !== undefined && (first.type === 'NullLiteral' || identifierName(first) === 'undefined');
    const files = rest.map((e) => stringValue(e));
    if ((paths === undefined && !nullish) || paths?.includes(undefined) || files.includes(undefined)) {
      this.computed(node, 'gRPC load()', "pass literals such as client.load(['./protos'], 'service.proto')");
    } else {
      this.references.push({ kind: 'grpc', importPaths: (paths ?? []) as string[], files: files as string[], line });
    }
  }
}

/** Files a .proto imports (`import "x.proto";`, `import public`/`weak` too), comments and strings aside. */
export function protoImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  return [...code.matchAll(/(?:^|[;\s])import\s+(?:(?:public|weak)\s+)?(["'])([^"'\n]+)\1\s*;/g)].map((m) => m[2]!);
}
