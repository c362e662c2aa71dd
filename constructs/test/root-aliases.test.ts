/**
 * The application side moved behind `@k6-platform/constructs/output`; the main entry keeps its old names as
 * deprecated aliases. They must be the very same values, so code still importing them behaves as before.
 */
import * as root from '../src';
import * as output from '../src/output';
import * as aliases from '../src/output/root-aliases';

describe('deprecated root aliases of the output subpath', () => {
  const names = Object.keys(aliases);

  test('every alias is the output export of the same name, and the main entry re-exports it', () => {
    // GIVEN: the names the main entry exported before the subpath existed
    expect(names).toEqual(expect.arrayContaining(['synthesize', 'loadEnvironmentConfig', 'helmBundle', 'writeHelmBundle', 'OUTPUT_MARKER']));
    for (const name of names) {
      // THEN
      expect([name, (aliases as Record<string, unknown>)[name]]).toEqual([name, (output as Record<string, unknown>)[name]]);
      expect((root as Record<string, unknown>)[name]).toBe((output as Record<string, unknown>)[name]);
    }
  });

  test('the main entry exports nothing else of the output subpath', () => {
    const leaked = Object.keys(output).filter((n) => n in root && !names.includes(n));
    expect(leaked).toEqual([]);
  });
});
