#!/usr/bin/env node
/**
 * Builds the published library into `lib/` (or the folder given as the first argument): constructs/src compiled with
 * tsconfig.build.json (CommonJS and declarations), the shell scripts the constructs read at run time beside their
 * modules (src/k6/*.sh), and the platform's generated dashboards (`lib/dashboards/`, provisioned by LoadTestPlatform by
 * default). The one build of the package: `npm run build:constructs`, `npm pack` (prepack) and the package tests use it.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const constructsDir = path.resolve(__dirname, '..');
const rootDir = path.dirname(constructsDir);
const outDir = path.resolve(process.argv[2] ?? path.join(constructsDir, 'lib'));

fs.rmSync(outDir, { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc', { paths: [rootDir] });
execFileSync(process.execPath, [tsc, '-p', path.join(constructsDir, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
const k6Dir = path.join(constructsDir, 'src', 'k6');
for (const f of fs.readdirSync(k6Dir).filter((f) => f.endsWith('.sh'))) fs.copyFileSync(path.join(k6Dir, f), path.join(outDir, 'k6', f));
const dashboards = path.join(rootDir, 'dashboards', 'generated');
fs.mkdirSync(path.join(outDir, 'dashboards'), { recursive: true });
for (const f of fs.readdirSync(dashboards).filter((f) => f.endsWith('.json'))) {
  fs.copyFileSync(path.join(dashboards, f), path.join(outDir, 'dashboards', f));
}

/**
 * The runtime dependencies that are not part of the public API (package.json `vendoredDependencies`: the script
 * parser, YAML, cron and CIDR parsing) are inlined, each as one minified CommonJS file under lib/vendor/, and the
 * compiled modules require those files instead of the packages. A consumer then installs the library and its peer
 * dependencies only. zod stays a peer dependency: the config schemas are exported, and a consumer composing them needs
 * the same zod. The licenses of everything inlined are collected into lib/vendor/THIRD-PARTY-LICENSES.md.
 */
const { buildSync } = require('esbuild');
const manifest = JSON.parse(fs.readFileSync(path.join(constructsDir, 'package.json'), 'utf8'));
const vendorDir = path.join(outDir, 'vendor');
const vendorFile = (name) => `${name.replace(/^@/, '').replace(/[/.]/g, '-')}.js`;
const vendoredNames = Object.keys(manifest.vendoredDependencies ?? {});
const inlined = new Map(); // package directory -> name@version
for (const name of vendoredNames) {
  const result = buildSync({
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: rootDir, loader: 'js' },
    absWorkingDir: rootDir, // metafile inputs are relative to it
    outfile: path.join(vendorDir, vendorFile(name)),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m === null) continue;
    const dir = path.resolve(rootDir, m[1]);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    inlined.set(dir, `${pkg.name}@${pkg.version}`);
  }
}
const licenseOf = (dir) => {
  const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.md|\.txt)?$/i.test(f));
  if (file === undefined) throw new Error(`build: ${dir} is inlined into lib/vendor/ but has no LICENSE file`);
  return fs.readFileSync(path.join(dir, file), 'utf8').trim();
};
fs.writeFileSync(
  path.join(vendorDir, 'THIRD-PARTY-LICENSES.md'),
  `# Third-party code in lib/vendor/\n\n${[...inlined]
    .sort(([, a], [, b]) => (a < b ? -1 : 1))
    .map(([dir, id]) => `## ${id}\n\n\`\`\`\n${licenseOf(dir)}\n\`\`\`\n`)
    .join('\n')}`,
);
// tsc writes every package import as require("<name>"): point the vendored ones at their file
const walk = (dir) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? (e.name === 'vendor' ? [] : walk(path.join(dir, e.name))) : [path.join(dir, e.name)]));
for (const file of walk(outDir).filter((f) => f.endsWith('.js'))) {
  const text = fs.readFileSync(file, 'utf8');
  let rewritten = text;
  for (const name of vendoredNames) {
    const rel = path
      .relative(path.dirname(file), path.join(vendorDir, vendorFile(name)))
      .split(path.sep)
      .join('/');
    rewritten = rewritten.split(`require("${name}")`).join(`require("${rel.startsWith('.') ? rel : `./${rel}`}")`);
  }
  if (rewritten !== text) fs.writeFileSync(file, rewritten);
}
