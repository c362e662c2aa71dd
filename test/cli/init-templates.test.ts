import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initProject } from '../../cli/scaffold/init';

// Every generated file except package.json (its versions follow the repository's, checked in test/package.test.ts),
// byte for byte: a change to a template shows up as a diff of this fixture to review (regenerate it from initProject).
const fixture = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'init-project.json'), 'utf8')) as Record<string, Record<string, string>>;

describe('loadtest init templates', () => {
  it.each(Object.keys(fixture))('writes the project %s byte for byte', (key) => {
    const [name, env] = key.split('/') as [string, string];
    const work = mkdtempSync(path.join(os.tmpdir(), 'init-tmpl-'));
    try {
      const dir = path.join(work, name);
      const r = initProject(dir, { environment: env });
      const written = Object.fromEntries(r.files.filter((f) => f !== 'package.json').map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
      expect(written).toEqual(fixture[key]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
