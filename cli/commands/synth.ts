/** `loadtest synth`: every environment (or the given ones) into dist/<env>/, offline. */
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { BUNDLE_DIR, synthesize } from '@k6-platform/constructs/output';
import { EXIT } from '../exit-codes';
import { requireEnvironment, type CommandKit, type CommandResult } from './context';
import { collectEnv } from './options';

/** Adds `synth` to the program. */
export function addSynthCommand(program: Command, kit: CommandKit, result: CommandResult): void {
  const { ctx, out, c } = kit;
  program
    .command('synth')
    .description('synthesize Kubernetes manifests into dist/<env>/ (no cluster needed)')
    .addOption(new Option('--env <name...>', 'environments to synthesize (default: every Pulumi.<env>.yaml plus dev)').argParser(collectEnv))
    .option('--out <dir>', 'output directory', 'dist')
    .action((opts: { env?: string[]; out: string }) => {
      for (const env of opts.env ?? []) requireEnvironment(ctx.rootDir, env);
      const outDir = path.resolve(ctx.rootDir, opts.out);
      const results = synthesize({ rootDir: ctx.rootDir, outDir, ...(opts.env !== undefined ? { environments: opts.env } : {}) });
      for (const [env, r] of results) {
        out.write(`${c.green('✓')} ${env}: ${r.objectCount} objects -> ${path.relative(process.cwd(), path.join(outDir, env))}\n`);
        for (const f of r.files) out.write(`    ${f}\n`);
        for (const n of r.notes) out.write(`  ${c.yellow('note')}: ${n}\n`);
      }
      // the one Helm chart of every environment, beside them (helm install -f <chart>/values-<env>.yaml)
      out.write(`${c.green('✓')} helm chart of every environment -> ${path.relative(process.cwd(), path.join(outDir, BUNDLE_DIR))}\n`);
      result.code = EXIT.ok;
    });
}
