import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The package that ships the CLI. */
export const CLI_PACKAGE_NAME = '@k6-platform/cli';

/**
 * The manifest of the package that ships the CLI: the nearest package.json named {@link CLI_PACKAGE_NAME} above
 * `from`. The same rule finds cli/package.json from the sources (cli/) and from the published bundle (lib/loadtest.js).
 */
export function cliPackageJson(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === CLI_PACKAGE_NAME) return file;
    if (path.dirname(dir) === dir) throw new Error(`loadtest: no package.json named ${CLI_PACKAGE_NAME} above ${from}`);
  }
}

/** The CLI's version: the `version` of the package that ships it (`loadtest --version`). */
export function cliVersion(packageJson: string = cliPackageJson()): string {
  const pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string' || pkg.version === '') throw new Error(`loadtest: ${packageJson} has no "version"`);
  return pkg.version;
}
