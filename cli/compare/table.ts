/**
 * The human output of `loadtest compare`: the regression rules (like the verdict's table), then one row per group and
 * stat with run, baseline, deltas and what they mean, then a summary line. Colors come from the CLI's kit.
 */
import { K6_BUILTIN_METRICS, parseThresholdKey } from '@k6-platform/constructs/internal';
import type { Colors } from '../output';
import { table } from '../output';
import type { ComparedStat, RunComparison, StatDelta } from './types';

/** Units of the stats as printed. */
const UNIT: Readonly<Record<ComparedStat, string>> = {
  p50: ' ms',
  p90: ' ms',
  p95: ' ms',
  p99: ' ms',
  error_ratio: '',
  request_rate: '/s',
  iteration_rate: '/s',
  checks_ratio: '',
  data_sent: ' B',
  data_received: ' B',
};

/** A number as the table prints it: 4 significant digits, integers as they are. */
export function formatValue(v: number | null, unit = ''): string {
  if (v === null) return 'no data';
  const n = Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 ? v.toFixed(0) : String(Number(v.toPrecision(4)));
  return `${n}${unit}`;
}

const signed = (v: number | null, unit: string) => (v === null ? '-' : `${v > 0 ? '+' : ''}${formatValue(v, unit)}`);
const percent = (v: number | null) => (v === null ? '-' : `${v > 0 ? '+' : ''}${Number((v * 100).toPrecision(3))}%`);

function meaning(s: StatDelta, c: Colors): string {
  switch (s.significance) {
    case 'worse':
      return c.red('worse');
    case 'better':
      return c.green('better');
    case 'no-data':
      return c.dim('no data');
    default:
      return c.dim('no significant change');
  }
}

/** The group column: `(run)`, `<scenario>` or `<scenario> <name>`. */
function groupName(scenario: string, name: string): string {
  if (scenario === '' && name === '') return '(run)';
  return name === '' ? scenario : `${scenario} ${name}`;
}

/** The whole comparison as text. */
export function formatComparison(r: RunComparison, c: Colors): string {
  const out: string[] = [];
  if (r.status === 'no-data' || r.status === 'unreachable' || r.status === 'no-baseline') {
    return `${[...r.notes.map((n) => c.yellow(`note: ${n}`)), `compare: ${c.yellow(r.status.toUpperCase())}`].join('\n')}\n`;
  }
  out.push(`run ${r.testid} vs baseline ${r.baseline!.testid} (${r.baseline!.source})\n`);
  if (r.regressions.length > 0) {
    const rows = r.regressions.map((x) => {
      const unit = K6_BUILTIN_METRICS[parseThresholdKey(x.metric).metric]?.isTime === true ? ' ms' : '';
      return [
        `${x.metric}: ${x.rule}`,
        formatValue(x.baseline, unit),
        formatValue(x.run, unit),
        formatValue(x.limit, unit),
        x.pass ? c.green('pass') : c.red('REGRESSED'),
        x.note ?? '',
      ];
    });
    out.push(`${table(['RULE', 'BASELINE', 'RUN', 'LIMIT', 'RESULT', 'NOTE'], rows)}\n`);
  }
  const rows = r.groups.flatMap((g) =>
    g.stats.map((s) => [
      groupName(g.scenario, g.name),
      s.stat,
      formatValue(s.baseline, UNIT[s.stat]),
      formatValue(s.run, UNIT[s.stat]),
      signed(s.absolute, UNIT[s.stat]),
      percent(s.relative),
      s.noiseSource === 'none' ? '-' : `±${formatValue(s.noise, UNIT[s.stat])}`,
      meaning(s, c),
    ]),
  );
  out.push(table(['GROUP', 'STAT', 'BASELINE', 'RUN', 'DELTA', 'DELTA %', 'NOISE', 'CHANGE'], rows));
  for (const n of r.notes) out.push(`${c.yellow(`note: ${n}`)}\n`);
  const failed = r.regressions.filter((x) => !x.pass).length;
  out.push(
    r.status === 'regressed'
      ? `compare: ${c.red('REGRESSED')} (${failed} of ${r.regressions.length} regression rules)\n`
      : `compare: ${c.green('NO REGRESSION')} (${r.regressions.length} regression rules)\n`,
  );
  return out.join('');
}
