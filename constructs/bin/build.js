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
