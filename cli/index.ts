/**
 * `loadtest`: synthesize the platform, run one test on the current kube-context and follow it, judge a run over all
 * runners, list recent runs. Run with `npm run loadtest -- <command>` (tsx) or through the package's `bin`.
 * Each command lives in cli/commands/; this file turns a command's outcome into an exit code and wires process I/O.
 */
import { CommanderError } from 'commander';
import { PlatformConfigError, RunTestConflictError } from '@k6-platform/constructs/internal';
import { EXIT, UsageError } from './exit-codes';
import { processOutput } from './output';
import { PrometheusUnreachableError } from './prometheus/client';
import { errorMessage } from './run/follow';
import { UnknownTestError } from './run/run-plan';
import { InitOptionError } from './scaffold/init';
import { VERDICT_EXIT_CODES } from './verdict/verdict';
import type { CliContext } from './commands/context';
import { buildProgram } from './commands/program';

export type { CliContext } from './commands/context';
export { buildProgram } from './commands/program';
export { GRAFANA_URL_ENV, PROMETHEUS_URL_ENV, TIMEOUT_ENV } from './commands/options';

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code. Usage errors give
 * {@link EXIT.usage}; config errors and unexpected failures print one message and give {@link EXIT.error}.
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const result = { code: EXIT.ok as number };
  const program = buildProgram(ctx, result);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (e) {
    return exitCodeOf(e, ctx);
  }
}

/** Prints an error that ended a command (unless commander already did) and gives its exit code. */
function exitCodeOf(e: unknown, ctx: CliContext): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return EXIT.ok;
    // commander printed the message already
    return EXIT.usage;
  }
  const c = ctx.out.colors;
  if (e instanceof UsageError || e instanceof UnknownTestError || e instanceof RunTestConflictError || e instanceof InitOptionError) {
    ctx.out.writeErr(c.red(`error: ${e.message}\n`));
    return EXIT.usage;
  }
  if (e instanceof PrometheusUnreachableError) {
    ctx.out.writeErr(c.red(`error: ${e.message}\n`));
    return VERDICT_EXIT_CODES.unreachable;
  }
  if (e instanceof PlatformConfigError) {
    ctx.out.writeErr(c.red(`error: ${e.message}\n`));
    return EXIT.error;
  }
  ctx.out.writeErr(c.red(`error: ${errorMessage(e)}\n`));
  return EXIT.error;
}

/** Entry point: process I/O, Ctrl-C wired to a clean stop (a second Ctrl-C exits at once). */
export async function main(): Promise<void> {
  const ac = new AbortController();
  process.on('SIGINT', () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping the run (Ctrl-C again to quit without cleaning up)...\n');
    ac.abort();
  });
  // The repository the CLI works on is where it is run (or --root), never where the CLI itself is installed.
  const rootDir = process.cwd();
  const code = await runCli(process.argv.slice(2), { out: processOutput(), env: process.env, rootDir, signal: ac.signal });
  // Exit explicitly once stdout is flushed: keep-alive sockets of the API client must not hold the process open.
  process.stdout.write('', () => process.exit(code));
}

if (require.main === module) void main();
