/** `loadtest init <dir>` through the CLI: writes the scaffold (content tested in test/package.test.ts), refuses a non-empty directory. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../cli/index';
import { bufferOutput } from '../cli/output';

const repoRoot = path.resolve(__dirname, '..');
let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'k6-init-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('loadtest init', () => {
  test('writes the repository with the chosen environment and name, and says what to do next', async () => {
    // GIVEN
    const dir = path.join(work, 'payments');
    const out = bufferOutput();
    // WHEN
    const code = await runCli(['init', dir, '--env', 'qa', '--name', '@acme/payments-load'], { out, env: {}, rootDir: repoRoot });
    // THEN
    expect(code).toBe(0);
    expect(out.err).toEqual([]);
    expect(out.text()).toContain(`✓ ${dir}: 7 files\n`);
    expect(out.text()).toContain(`next: cd ${dir} && npm install && npm test\n`);
    expect(existsSync(path.join(dir, 'Pulumi.qa.yaml'))).toBe(true);
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('npx --no-install loadtest run example --env qa\n');
    expect((JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string }).name).toBe('@acme/payments-load');
  });

  test('a non-empty directory: exit 1, the directory named, nothing written', async () => {
    // GIVEN
    const dir = path.join(work, 'existing');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'package.json'), '{}\n');
    const out = bufferOutput();
    // WHEN
    const code = await runCli(['init', dir], { out, env: {}, rootDir: repoRoot });
    // THEN
    expect(code).toBe(1);
    expect(out.err.join('')).toBe(
      `error: loadtest init: directory ${dir} is not empty (found: package.json); choose a new or empty directory, nothing was written\n`,
    );
    expect(readdirSync(dir)).toEqual(['package.json']);
  });

  test('a bad --name is a usage error (exit 2, as a bad --env), naming the field, the value and the rule; nothing written', async () => {
    // GIVEN
    const dir = path.join(work, 'bad-name');
    const out = bufferOutput();
    // WHEN
    const code = await runCli(['init', dir, '--name', 'Bad Name'], { out, env: {}, rootDir: repoRoot });
    // THEN
    expect(code).toBe(2);
    expect(out.err.join('')).toBe(
      `error: loadtest init: 'name' must be an npm package name (lower-case letters, digits, "-", "." or "_"), got "Bad Name"\n`,
    );
    expect(existsSync(dir)).toBe(false);
  });

  test('a bad environment name is a usage error', async () => {
    const out = bufferOutput();
    const code = await runCli(['init', path.join(work, 'x'), '--env', 'Prod'], { out, env: {}, rootDir: repoRoot });
    expect(code).toBe(2);
    expect(out.err.join('')).toContain("option '--env <name>' argument 'Prod' is invalid.");
    expect(existsSync(path.join(work, 'x'))).toBe(false);
  });
});
