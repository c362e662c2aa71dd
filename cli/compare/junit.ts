/**
 * `loadtest compare --junit <file>`: one `<testsuite>` for the run, one `<testcase>` per regression rule (a
 * `<failure type="regression">` when it regressed), and one passing `<testcase>` per significantly worse stat that
 * no rule judges, its delta in `<system-out>`: CI lists it, and the file fails exactly when the exit code does
 * (docs/compare.md). No baseline, no data or an unreachable Prometheus is one testcase with an `<error>`. Written
 * atomically like the verdict's file.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { xmlEscape } from '../verdict/junit';
import { formatValue } from './table';
import type { RunComparison } from './types';

const attrs = (a: Readonly<Record<string, string | number>>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

function cases(r: RunComparison, classname: string): string[] {
  if (r.status === 'no-data' || r.status === 'unreachable' || r.status === 'no-baseline') {
    const message = r.notes.join('; ') || r.status;
    return [
      `    <testcase${attrs({ name: 'compare', classname, time: 0 })}>`,
      `      <error${attrs({ type: r.status, message })}/>`,
      '    </testcase>',
    ];
  }
  const out: string[] = [];
  for (const x of r.regressions) {
    const head = `    <testcase${attrs({ name: `${x.metric}: ${x.rule}`, classname, time: 0 })}`;
    if (x.pass) out.push(`${head}/>`);
    else {
      const message = `run ${formatValue(x.run)}, baseline ${formatValue(x.baseline)}, limit ${formatValue(x.limit)}${x.note !== undefined ? ` (${x.note})` : ''}`;
      out.push(`${head}>`, `      <failure${attrs({ type: 'regression', message })}/>`, '    </testcase>');
    }
  }
  for (const g of r.groups) {
    for (const s of g.stats.filter((x) => x.significance === 'worse')) {
      const group = g.scenario === '' && g.name === '' ? '(run)' : [g.scenario, g.name].filter((x) => x !== '').join(' ');
      const text = `${s.stat}: baseline ${formatValue(s.baseline)}, run ${formatValue(s.run)}, delta ${formatValue(s.absolute)} beyond the noise band ±${formatValue(s.noise)}`;
      out.push(
        `    <testcase${attrs({ name: `worse: ${group} ${s.stat}`, classname, time: 0 })}>`,
        `      <system-out>${xmlEscape(text)}</system-out>`,
        '    </testcase>',
      );
    }
  }
  return out;
}

/** The JUnit XML of a comparison. */
export function compareJunitXml(r: RunComparison, timestamp: Date): string {
  const classname = r.test ?? r.testid;
  const body = cases(r, classname);
  const tests = body.filter((l) => l.startsWith('    <testcase')).length;
  const failures = body.filter((l) => l.includes('<failure')).length;
  const errors = body.filter((l) => l.includes('<error')).length;
  const props: [string, string][] = [
    ['testid', r.testid],
    ...(r.test !== undefined ? ([['test', r.test]] as [string, string][]) : []),
    ['status', r.status],
    ...(r.baseline !== undefined
      ? ([
          ['baseline', r.baseline.testid],
          ['baseline.source', r.baseline.source],
        ] as [string, string][])
      : []),
  ];
  const head = attrs({
    name: `compare ${r.testid}`,
    tests,
    failures,
    errors,
    skipped: 0,
    timestamp: timestamp.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    time: 0,
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'loadtest compare', tests, failures, errors })}>`,
    `  <testsuite${head}>`,
    '    <properties>',
    ...props.map(([name, value]) => `      <property${attrs({ name, value })}/>`),
    '    </properties>',
    ...body,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Writes the file atomically: a temporary file beside it, then a rename over it. */
export function writeCompareJunit(file: string, r: RunComparison, timestamp: Date): void {
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(tmp, compareJunitXml(r, timestamp));
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`loadtest: writing the JUnit file ${target} failed: ${(e as Error).message}`);
  }
}
