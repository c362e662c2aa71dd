/** The parsers of `--split` and `--zone`, and the zone a kube-context's name gives (cli/run/multi-plan.ts). */
import { collectZone, splitWeights, zoneOf } from '../../cli/run/multi-plan';

describe('--split, --zone and the default zone', () => {
  test('--split: integer weights joined by ":", one per --context', () => {
    expect(splitWeights('3:1')).toEqual([3, 1]);
    expect(splitWeights('1:1:1')).toEqual([1, 1, 1]);
    expect(splitWeights('1000:1')).toEqual([1000, 1]);
    const rule = 'must be 2 to 16 integer weights from 1 to 1000 joined by ":", one per --context in their order, such as 3:1.';
    for (const bad of ['3', '3:', ':1', '3:0', '3:1.5', '3:-1', '3:x', '1001:1', '3,1', ' 3:1', Array(17).fill(1).join(':')]) {
      expect(() => splitWeights(bad)).toThrow(rule);
    }
  });

  test('--zone: <context>=<zone>, the context may hold "=", the zone a label value', () => {
    expect(collectZone('a=eu-west', undefined)).toEqual([['a', 'eu-west']]);
    expect(collectZone('team=x=us-1', [['a', 'eu']])).toEqual([
      ['a', 'eu'],
      ['team=x', 'us-1'],
    ]);
    for (const bad of ['a', '=eu', 'a=', 'a=EU', 'a=-eu', 'a=eu-', `a=${'x'.repeat(33)}`])
      expect(() => collectZone(bad, undefined)).toThrow('must be <context>=<zone>');
  });

  test('a context\'s zone: lower case, every run of other characters one "-", trimmed, at most 32 characters, the end kept', () => {
    expect(zoneOf('kind-eu')).toBe('kind-eu');
    expect(zoneOf('us_East.1')).toBe('us-east-1');
    expect(zoneOf('gke_my-project_europe-west1-b_load')).toBe('e-my-project-europe-west1-b-load');
    expect(zoneOf('arn:aws:eks:eu-west-1:123456789012:cluster/load')).toBe('west-1-123456789012-cluster-load');
    expect(zoneOf('_prod_')).toBe('prod');
    expect(zoneOf('@@@')).toBe('zone');
    expect(zoneOf(`a.${'b'.repeat(31)}`)).toBe('b'.repeat(31));
  });
});
