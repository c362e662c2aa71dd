/**
 * What a repository written by `loadtest init` depends on, from this repository's own manifests: the library at the
 * constructs package's version, its peer dependencies, the CLI at its own version and its Node versions (`engines`), and the dev tools the scaffold's
 * scripts run (the type check) at the versions this repository tests with. The one rule for both ways the CLI runs:
 * from the sources (computed here on each `init`) and as the published package (computed by bin/build.js at pack time
 * into lib/scaffold.json, since the package carries neither manifest).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** The dev tools of the scaffold's package.json (its `typecheck` of the k6 scripts), at this repository's versions. */
const SCAFFOLD_DEV_TOOLS = ['typescript', '@types/k6'];

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/**
 * @param {string} repoRoot the repository root (holding package.json, constructs/ and cli/)
 * @returns {{ library: string, peers: Record<string, string>, cli: string, devTools: Record<string, string>, engines: string }}
 */
function scaffoldVersions(repoRoot) {
  const rootFile = path.join(repoRoot, 'package.json');
  const root = readJson(rootFile);
  const library = readJson(path.join(repoRoot, 'constructs', 'package.json'));
  const cli = readJson(path.join(repoRoot, 'cli', 'package.json'));
  const devTools = {};
  for (const name of SCAFFOLD_DEV_TOOLS) {
    const v = (root.devDependencies ?? {})[name] ?? (root.dependencies ?? {})[name];
    if (v === undefined) throw new Error(`loadtest init: ${name} is not a dependency of ${rootFile}`);
    devTools[name] = `^${v}`;
  }
  return { library: `^${library.version}`, peers: library.peerDependencies ?? {}, cli: `^${cli.version}`, devTools, engines: cli.engines.node };
}

module.exports = { scaffoldVersions };
