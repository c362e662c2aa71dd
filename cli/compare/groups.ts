/**
 * The groups of a comparison (pure): the whole run first, then each scenario (iterations, checks, data) and each
 * scenario and request name (latencies, errors, request rate), sorted; every stat of a group run next to baseline
 * with its noise band (cli/compare/noise.ts).
 */
import { runSpread, statDelta } from './noise';
import { COMPARED_STATS, groupKey, type RunStats } from './queries';
import type { ComparedStat, ComparisonGroup } from './types';

/** Stats of request groups (tagged with a request name). */
const REQUEST_STATS: readonly ComparedStat[] = ['p50', 'p90', 'p95', 'p99', 'error_ratio', 'request_rate'];
/** Stats of scenario groups. */
const SCENARIO_STATS: readonly ComparedStat[] = ['iteration_rate', 'checks_ratio', 'data_sent', 'data_received'];

/** The groups of both runs compared, whole run first. */
export function comparisonGroups(run: RunStats, baseline: RunStats, spread: readonly RunStats[], trends: 'native' | 'classic'): ComparisonGroup[] {
  const keys = [...new Set([...run.keys(), ...baseline.keys()])].map((k) => {
    const [scenario, name] = k.split('\u0000') as [string, string];
    return { key: k, scenario, name };
  });
  const whole = groupKey('', '');
  keys.sort((a, b) => (a.key === whole ? -1 : b.key === whole ? 1 : a.scenario.localeCompare(b.scenario) || a.name.localeCompare(b.name)));
  if (!keys.some((k) => k.key === whole)) keys.unshift({ key: whole, scenario: '', name: '' });
  return keys.map(({ key, scenario, name }) => {
    const stats = key === whole ? COMPARED_STATS : name !== '' ? REQUEST_STATS : SCENARIO_STATS;
    return {
      scenario,
      name,
      stats: stats.map((stat) => {
        const value = (s: RunStats | undefined) => s?.get(key)?.get(stat) ?? null;
        return statDelta(stat, value(run), value(baseline), trends, runSpread(spread.map(value)));
      }),
    };
  });
}
