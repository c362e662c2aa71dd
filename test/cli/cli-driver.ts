/**
 * Runs the whole CLI in a child process with the real cluster adapter (client-node is ESM-only; tsx loads it, jest
 * does not need to): `tsx test/cli/cli-driver.ts <argv...>` with the repository root of `$LOADTEST_TEST_ROOT`, the
 * process's environment (KUBECONFIG, HOME) and its stdout/stderr; exits with the CLI's code.
 */
import { runCli } from '../../cli/index';
import { processOutput } from '../../cli/output';

async function main(): Promise<void> {
  const rootDir = process.env.LOADTEST_TEST_ROOT;
  if (rootDir === undefined) throw new Error('cli-driver: set LOADTEST_TEST_ROOT');
  const code = await runCli(process.argv.slice(2), { out: processOutput(), env: process.env, rootDir });
  process.stdout.write('', () => process.exit(code));
}

main().catch((e: unknown) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e));
  process.exit(70);
});
