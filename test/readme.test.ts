import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { README, renderReadme } from './support/readme';

describe('README', () => {
  const text = readFileSync(README, 'utf8');

  test('generated blocks are fresh (run `npm run docs:readme`)', () => {
    expect(renderReadme(text)).toBe(text);
  });

  test('starts with the two commands: synth and tests, and CI runs the same test command', () => {
    // GIVEN
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(text)?.[1] ?? '';
    const ci = readFileSync(path.join(__dirname, '..', '.ci', 'run'), 'utf8');
    // THEN
    expect(firstBlock).toContain('npm ci && npm run synth');
    expect(firstBlock).toContain('bash .ci/setup && npm test');
    expect(ci).toMatch(/^bash \.ci\/setup && npm test$/m);
  });
});
