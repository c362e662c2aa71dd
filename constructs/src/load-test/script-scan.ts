/**
 * What one k6 script refers to, read from its syntax without running it: local imports, the literal paths of open()
 * (init context and `k6/experimental/fs`), gRPC `load()` files and `loadProtoset()`, and the k6 and remote modules it
 * imports. script-files.ts resolves these against the scripts directory.
 */
import * as ts from 'typescript';

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

/** What one script file refers to, with the k6 and remote modules it imports. */
export function scanScript(source: string, fileName: string): ScriptScan {
  const kind = /\.[mc]?ts$/.test(fileName) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, kind);
  const scan = new Scanner(sf);
  scan.walk(sf, false);
  return { references: scan.references, modules: scan.modules, problems: scan.problems };
}

/** Which local names stand for experimental/fs open() (named import) or the fs module (namespace/default import), and whether the file uses gRPC at all. */
function fsAndGrpcBindings(sf: ts.SourceFile): { fsOpen: Set<string>; fsModule: Set<string>; grpc: boolean } {
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
  return { fsOpen, fsModule, grpc };
}

/** A literal path argument, or `import.meta.resolve('<literal>')`. */
function literalPath(node: ts.Expression | undefined): { path: string; viaResolve: boolean } | undefined {
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
}

/** Walks one file, collecting what it refers to. */
class Scanner {
  public readonly references: ScriptReference[] = [];
  public readonly modules: { module: string; line: number }[] = [];
  public readonly problems: { line: number; message: string }[] = [];
  private readonly fsOpen: Set<string>;
  private readonly fsModule: Set<string>;
  private readonly grpc: boolean;

  public constructor(private readonly sf: ts.SourceFile) {
    ({ fsOpen: this.fsOpen, fsModule: this.fsModule, grpc: this.grpc } = fsAndGrpcBindings(sf));
  }

  private lineOf(node: ts.Node): number {
    return this.sf.getLineAndCharacterOfPosition(node.getStart(this.sf)).line + 1;
  }

  private specifier(node: ts.Node | undefined, line: number): void {
    if (!node || !ts.isStringLiteralLike(node)) return;
    const spec = node.text;
    if (/^\.\.?\//.test(spec)) this.references.push({ kind: 'import', path: spec, line });
    else if (spec === 'k6' || spec.startsWith('k6/') || spec.startsWith('https://')) this.modules.push({ module: spec, line });
  }

  private computed(node: ts.Node, call: string, hint: string): void {
    this.problems.push({
      line: this.lineOf(node),
      message: `${call} with a computed path cannot be bundled (the file is only known at run time); ${hint}`,
    });
  }

  public walk(node: ts.Node, inFunction: boolean): void {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly === true : node.isTypeOnly;
      if (!typeOnly) this.specifier(node.moduleSpecifier, this.lineOf(node));
    } else if (ts.isCallExpression(node)) {
      this.call(node, inFunction);
    }
    const fn = ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node);
    ts.forEachChild(node, (child) => this.walk(child, inFunction || fn));
  }

  private call(node: ts.CallExpression, inFunction: boolean): void {
    const callee = node.expression;
    const line = this.lineOf(node);
    if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
      this.specifier(node.arguments[0], line);
    } else if (
      (ts.isIdentifier(callee) && (callee.text === 'open' || this.fsOpen.has(callee.text))) ||
      (ts.isPropertyAccessExpression(callee) &&
        ts.isIdentifier(callee.expression) &&
        this.fsModule.has(callee.expression.text) &&
        callee.name.text === 'open')
    ) {
      const isFs = ts.isPropertyAccessExpression(callee) || this.fsOpen.has(callee.text);
      const arg = literalPath(node.arguments[0]);
      if (arg !== undefined) this.references.push({ kind: isFs ? 'fs-open' : 'open', path: arg.path, line, inFunction, viaResolve: arg.viaResolve });
      else if (node.arguments[0] !== undefined) {
        this.computed(
          node,
          'open()',
          "pass a string literal such as open('./data.csv') or open(import.meta.resolve('./data.csv')) (a helper taking a path can take the opened content instead: parse(open('./data.csv')))",
        );
      }
    } else if (this.grpc && ts.isPropertyAccessExpression(callee) && callee.name.text === 'loadProtoset' && node.arguments.length === 1) {
      const arg = literalPath(node.arguments[0]);
      if (arg !== undefined) this.references.push({ kind: 'protoset', path: arg.path, line, inFunction, viaResolve: arg.viaResolve });
      else this.computed(node, 'gRPC loadProtoset()', "pass a string literal such as client.loadProtoset('./service.protoset')");
    } else if (this.grpc && ts.isPropertyAccessExpression(callee) && callee.name.text === 'load' && node.arguments.length >= 2) {
      this.grpcLoad(node, line);
    }
  }

  private grpcLoad(node: ts.CallExpression, line: number): void {
    const [first, ...rest] = node.arguments;
    const paths =
      first !== undefined && ts.isArrayLiteralExpression(first)
        ? first.elements.map((e) => (ts.isStringLiteralLike(e) ? e.text : undefined))
        : undefined;
    const nullish = first !== undefined && (first.kind === ts.SyntaxKind.NullKeyword || (ts.isIdentifier(first) && first.text === 'undefined'));
    const files = rest.map((e) => (ts.isStringLiteralLike(e) ? e.text : undefined));
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
