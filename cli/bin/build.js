#!/usr/bin/env node
/**
 * Builds the published CLI into `lib/` (or the folder given as the first argument): cli/index.ts and everything it
 * imports bundled by esbuild into one CommonJS file, `lib/loadtest.js` (the package's `bin`), with every npm package
 * left as a `require` of the installed dependency, so the bin needs no TypeScript tooling at run time. Beside it: the
 * scaffold's templates (`lib/templates/`, where cli/scaffold/init.ts looks from the bundle) and the versions the
 * scaffold depends on (`lib/scaffold.json`). The one build of the package: its prepack and the package tests use it.
 * Type checking is the repository's lint (tsc over cli/), not this build.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { buildSync } = require('esbuild');
const { scaffoldVersions } = require('./scaffold-versions');

const cliDir = path.resolve(__dirname, '..');
const repoRoot = path.dirname(cliDir);
const outDir = path.resolve(process.argv[2] ?? path.join(cliDir, 'lib'));
const engines = JSON.parse(fs.readFileSync(path.join(cliDir, 'package.json'), 'utf8')).engines.node;

fs.rmSync(outDir, { recursive: true, force: true });
buildSync({
  entryPoints: [path.join(cliDir, 'index.ts')],
  outfile: path.join(outDir, 'loadtest.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // the lowest Node line the package's engines accept (">=20.19 ...")
  target: `node${/\d+(\.\d+)?/.exec(engines)[0]}`,
  // every npm package stays a require of the installed one; the library too, though tsconfig maps it to its sources
  packages: 'external',
  external: ['@k6-platform/constructs', '@k6-platform/constructs/*'],
  banner: { js: '#!/usr/bin/env node' },
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  tsconfig: path.join(repoRoot, 'tsconfig.json'),
});
fs.chmodSync(path.join(outDir, 'loadtest.js'), 0o755);
fs.cpSync(path.join(cliDir, 'scaffold', 'templates'), path.join(outDir, 'templates'), { recursive: true });
fs.writeFileSync(path.join(outDir, 'scaffold.json'), `${JSON.stringify(scaffoldVersions(repoRoot), null, 2)}\n`);
