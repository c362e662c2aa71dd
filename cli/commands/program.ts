/** The `loadtest` program: its help, its error output, and one file per command under cli/commands/. */
import * as path from 'node:path';
import { Command } from 'commander';
import { COMPARE_EXIT_CODES } from '../compare/compare';
import { EXIT } from '../exit-codes';
import { VERDICT_EXIT_CODES } from '../verdict/verdict';
import { cliVersion } from '../version';
import { addCompareCommand } from './compare';
import { commandKit, type CliContext, type CommandResult } from './context';
import { addInitCommand } from './init';
import { addReportCommand } from './report';
import { addRunCommand } from './run';
import { addRunsCommand } from './runs';
import { addSynthCommand } from './synth';
import { addVerdictCommand } from './verdict';

/** The `loadtest` program. Actions store their exit code in `result.code`. */
export function buildProgram(ctx: CliContext, result: CommandResult): Command {
  // `--root` replaces the repository root before any command's action reads it.
  const live: { -readonly [K in keyof CliContext]: CliContext[K] } = { ...ctx };
  const kit = commandKit(live);
  const { out, c } = kit;
  const program = new Command('loadtest')
    .description('Distributed k6 load tests on Kubernetes: synthesize, run and follow, judge over all runners, list runs.')
    .version(cliVersion(), '-V, --version', "print the CLI's version")
    .option('--root <dir>', 'the repository: its Pulumi.<env>.yaml, scripts/ and dashboards/ (default: the current directory)')
    .hook('preAction', (cmd) => {
      const root = (cmd.opts() as { root?: string }).root;
      if (root !== undefined) live.rootDir = path.resolve(ctx.rootDir, root);
    })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => out.write(s),
      writeErr: (s) => out.writeErr(s),
      outputError: (s, write) => write(c.red(s)),
    })
    .addHelpText(
      'after',
      `
Exit codes: ${VERDICT_EXIT_CODES.pass} pass, ${VERDICT_EXIT_CODES.fail} thresholds failed (k6's code), ${VERDICT_EXIT_CODES['no-data']} no data for the testid, ${VERDICT_EXIT_CODES.unreachable} Prometheus unreachable,
${EXIT.usage} usage errors (arguments, options, their variables), ${EXIT.runFailed} run did not complete, ${EXIT.interrupted} stopped with Ctrl-C, ${EXIT.error} other errors. The same for every command.
compare: ${COMPARE_EXIT_CODES.regressed} regressed, ${COMPARE_EXIT_CODES['no-baseline']} no baseline (docs/compare.md).
Needs a cluster: run (current kube-context). Needs Prometheus: run, verdict, runs, compare, report. synth needs neither.`,
    );
  addSynthCommand(program, kit, result);
  addRunCommand(program, kit, result);
  addVerdictCommand(program, kit, result);
  addRunsCommand(program, kit, result);
  addCompareCommand(program, kit, result);
  addReportCommand(program, kit, result);
  addInitCommand(program, kit, result);
  return program;
}
