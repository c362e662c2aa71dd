import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The package that ships the CLI: the repository root today (its `bin` is cli/loadtest.js). */
export const CLI_PACKAGE_JSON = path.resolve(__dirname, '..', 'package.json');

/** The CLI's version: the `version` of the package that ships it (`loadtest --version`). */
export function cliVersion(packageJson: string = CLI_PACKAGE_JSON): string {
  const pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string' || pkg.version === '') throw new Error(`loadtest: ${packageJson} has no "version"`);
  return pkg.version;
}
