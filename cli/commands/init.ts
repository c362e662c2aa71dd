/** `loadtest init`: a new load-test repository for a service team. */
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes';
import { initProject } from '../scaffold/init';
import type { CommandKit, CommandResult } from './context';
import { environmentName } from './options';

/** Adds `init` to the program. */
export function addInitCommand(program: Command, kit: CommandKit, result: CommandResult): void {
  const { out, c } = kit;
  program
    .command('init')
    .description('write a new load-test repository for a service team into <dir> (new or empty): scripts, config, CI')
    .argument('<dir>', 'directory of the new repository')
    .option('--name <name>', 'npm package name (default: the directory name)')
    .addOption(new Option('--env <name>', 'the environment its config declares').default('dev').argParser(environmentName))
    .action((dir: string, opts: { name?: string; env: string }) => {
      const created = initProject(path.resolve(dir), { ...(opts.name !== undefined ? { name: opts.name } : {}), environment: opts.env });
      out.write(`${c.green('✓')} ${created.dir}: ${created.files.length} files\n`);
      for (const f of created.files) out.write(`    ${f}\n`);
      out.write(`next: cd ${dir} && npm install && npm test\n`);
      result.code = EXIT.ok;
    });
}
