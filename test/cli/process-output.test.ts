/**
 * The CLI's own process output (cli/output.ts `processOutput`): colors decided by FORCE_COLOR and NO_COLOR when
 * stdout is not a terminal, checked on the real stderr of a child process (the full precedence table is unit-tested on
 * `colorsEnabled` in cli.test.ts).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..');
const RED = '\u001b[31m';

function loadtest(argv: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
      [path.join(__dirname, 'cli-driver.ts'), ...argv],
      { env: { PATH: process.env.PATH ?? '', LOADTEST_TEST_ROOT: repoRoot, ...env }, timeout: 60_000 },
      (err, _stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stderr }),
    ),
  );
}

test.each<[Record<string, string>, boolean]>([
  [{}, false],
  [{ FORCE_COLOR: '1' }, true],
  [{ FORCE_COLOR: '1', NO_COLOR: '1' }, true],
  [{ NO_COLOR: '1' }, false],
])('a usage error on a pipe with %j is colored: %s, exit 2 either way', async (env, colored) => {
  // WHEN
  const r = await loadtest(['bogus'], env);
  // THEN
  expect(r.code).toBe(2);
  expect(r.stderr.includes(RED)).toBe(colored);
  // With both set, Node itself warns on stderr that NO_COLOR is ignored (the same precedence): Node 22 also from the tsx
  // parent process, after the CLI's own lines. Those warnings are Node's, not the CLI's output, so they are left out.
  const own = r.stderr
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((l) => !/^\(node:\d+\) Warning: /.test(l) && !l.startsWith('(Use `node --trace-warnings'))
    .join('\n');
  expect(own).toBe("error: unknown command 'bogus'\n(run with --help for usage)\n");
});
