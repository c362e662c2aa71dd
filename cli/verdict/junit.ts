/**
 * `--junit <file>` of `verdict` and `run`: the verdict as JUnit XML, the format CI systems (GitHub Actions reporters,
 * GitLab, Jenkins) show as test results. One `<testsuite>` per judged run, one `<testcase>` per threshold named
 * `<key>: <expression>`, a `<failure>` with the observed value and the limit for a failed threshold. A run without a
 * verdict over its thresholds (no data, Prometheus unreachable, the run did not complete) is one testcase with an
 * `<error>`, so a CI job never reads a stale file as a pass. Written atomically: a reader sees the old file or the
 * new one, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { thresholdName } from './json';
import { formatObserved, type Verdict, type VerdictRow } from './verdict';

/** One run in the JUnit file. */
export interface JunitSuite {
  /** The run id: the suite's name. */
  readonly testid: string;
  /** The test whose thresholds judged it: the testcases' classname (the testid when unknown). */
  readonly test?: string;
  /** When the suite was judged. */
  readonly timestamp: Date;
  /** The verdict; when absent, `error` says why there is none. */
  readonly verdict?: Verdict;
  /** Why the run has no verdict (e.g. `runner-failed`: the outcome of `loadtest run`). */
  readonly error?: { readonly type: string; readonly message: string };
}

/** XML 1.0 forbids these control characters even escaped; they are dropped. */
const INVALID_XML_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** Escapes text for an XML attribute value or element content (the five predefined entities; newlines kept in attributes). */
export function xmlEscape(s: string): string {
  return s
    .replace(INVALID_XML_CHARS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

const attrs = (a: Readonly<Record<string, string | number>>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

/** The limit as the threshold states it, with the unit: `< 500 ms`. */
function limitText(row: VerdictRow): string {
  const t = row.query.threshold;
  return `${t.aggregationName} ${t.operator} ${t.value}${t.metricInfo.isTime ? ' ms' : ''}`;
}

/** `observed 612.3 ms, limit p(95) < 500 ms`, with the reason when nothing finite was observed. */
export function failureMessage(row: VerdictRow): string {
  const observed = row.note !== undefined ? `${formatObserved(row)} (${row.note})` : formatObserved(row);
  return `observed ${observed}, limit ${limitText(row)}`;
}

function testcase(row: VerdictRow, classname: string): string {
  const head = `    <testcase${attrs({ name: thresholdName(row), classname, time: 0 })}`;
  if (row.pass) return `${head}/>`;
  return [
    `${head}>`,
    `      <failure${attrs({ message: failureMessage(row), type: 'threshold' })}>${xmlEscape(row.query.promql)}</failure>`,
    '    </testcase>',
  ].join('\n');
}

/** Why the suite has no testcase per threshold: the run's outcome, or a verdict without rows (no data, unreachable). */
function suiteError(s: JunitSuite): JunitSuite['error'] {
  if (s.error !== undefined) return s.error;
  const v = s.verdict;
  if (v === undefined) return { type: 'no-verdict', message: 'the judge reported no verdict' };
  return v.rows.length === 0 && v.status !== 'pass' ? { type: v.status, message: v.message ?? v.status } : undefined;
}

function suite(s: JunitSuite): string {
  const classname = s.test ?? s.testid;
  const v = s.verdict;
  const error = suiteError(s);
  const rows = v?.rows ?? [];
  // A starved run: one failed testcase per validity reason beside the thresholds' (the status property says inconclusive).
  const reasons = error === undefined ? (v?.validity?.reasons ?? []) : [];
  const cases =
    error !== undefined
      ? [`    <testcase${attrs({ name: 'verdict', classname, time: 0 })}>`, `      <error${attrs(error)}/>`, '    </testcase>'].join('\n')
      : [
          ...rows.map((r) => testcase(r, classname)),
          ...reasons.map((r) =>
            [
              `    <testcase${attrs({ name: `validity: ${r.check}`, classname, time: 0 })}>`,
              `      <failure${attrs({ message: r.message, type: 'inconclusive' })}/>`,
              '    </testcase>',
            ].join('\n'),
          ),
        ].join('\n');
  const w = v?.window;
  const props = [
    ['testid', s.testid],
    ...(s.test !== undefined ? [['test', s.test]] : []),
    ['status', error?.type ?? v?.status ?? ''],
    ...(w !== undefined
      ? [
          ['window.start', new Date(w.start).toISOString()],
          ['window.end', new Date(w.end).toISOString()],
        ]
      : []),
  ];
  const head = attrs({
    name: s.testid,
    tests: error !== undefined ? 1 : rows.length + reasons.length,
    failures: error !== undefined ? 0 : rows.filter((r) => !r.pass).length + reasons.length,
    errors: error !== undefined ? 1 : 0,
    skipped: 0,
    timestamp: s.timestamp.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    time: w !== undefined ? (w.end - w.start) / 1000 : 0,
  });
  return [
    `  <testsuite${head}>`,
    '    <properties>',
    ...props.map(([name, value]) => `      <property${attrs({ name: name!, value: value! })}/>`),
    '    </properties>',
    ...(cases !== '' ? [cases] : []),
    '  </testsuite>',
  ].join('\n');
}

/** The JUnit XML document of the suites. */
export function junitXml(suites: readonly JunitSuite[]): string {
  const bodies = suites.map(suite);
  const count = (re: RegExp) => bodies.reduce((n, b) => n + (b.match(re)?.length ?? 0), 0);
  const total = attrs({ name: 'loadtest', tests: count(/<testcase /g), failures: count(/<failure /g), errors: count(/<error /g) });
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${total}>`, ...bodies, '</testsuites>', ''].join('\n');
}

/** Writes the JUnit file atomically: a temporary file beside it, then a rename over it. */
export function writeJunit(file: string, suites: readonly JunitSuite[]): void {
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(tmp, junitXml(suites));
    renameSync(tmp, target);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the temporary file was never created (its directory is not one)
    }
    throw new Error(`loadtest: writing the JUnit file ${target} failed: ${(e as Error).message}`);
  }
}
