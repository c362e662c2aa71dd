/**
 * `npm run bench`: prints the platform's performance figures and writes them to docs/performance.md. Never run by
 * the tests (wall time is not asserted anywhere). Takes a few minutes: most of it is pushing 1 h of synthetic data.
 * `npm run bench:synth` (`--synth-only`) runs the two synth sections only and rewrites just those in docs/performance.md;
 * `npm run bench:rules` (`--recording-rules`) runs the recording-rules comparison and rewrites its block in docs/dashboards.md;
 * `--compare-report` runs the `loadtest compare` and `loadtest report` figures only (printed, nothing written).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { thresholdQueries } from '@k6-platform/constructs/internal';
import { table } from '../cli/output';
import { machine, ms } from './machine';
import { benchQueries, benchSeries, type ExtraQuery } from './prometheus';
import { benchLargeBundleSynth, benchSynth } from './synth';
import { benchSynthCli, type SynthCliFigures } from './synth-cli';
import { benchRecordingRules } from './recording-rules';
import { BENCH_THRESHOLDS } from './thresholds';
import { benchCompare, formatCompareFigures } from './compare';
import { benchReport } from './report';

export { BENCH_THRESHOLDS } from './thresholds';

/** The targets the synth figures are held to: the app at most 2x `helm template`, end to end 1.5 s, 5 ms a test. */
export const SYNTH_TARGETS = { appPerHelm: 2, endToEndMs: 1500, perExtraTestMs: 5 } as const;

/** The printed lines of the `cdk8s synth` vs `helm template` figures. */
function synthCliText(f: SynthCliFigures, perExtraTestMs: number): string {
  const appPerHelm = f.appMs / f.helmMs;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const load = f.loadAverage.map((x) => x.toFixed(1)).join(' / ');
  return [
    `helm template reference: ${f.reference}`,
    `1-min load average during the runs (min / median / max): ${load}`,
    table(
      ['COMMAND', 'MEDIAN', 'FASTEST'],
      [
        ['npx cdk8s synth --no-check-upgrade (end to end)', ms(f.endToEndMs), ms(f.fastest.endToEndMs)],
        ['node constructs/bin/synth.js (the app)', ms(f.appMs), ms(f.fastest.appMs)],
        ['  the same without its code cache (.cache/synth/app.cache removed)', ms(f.appNoCodeCacheMs), ms(f.fastest.appNoCodeCacheMs)],
        ['helm template (reference chart)', ms(f.helmMs), ms(f.fastest.helmMs)],
      ],
    ).trimEnd(),
    `app / helm: ${appPerHelm.toFixed(2)}x; end to end / helm: ${(f.endToEndMs / f.helmMs).toFixed(2)}x; per extra test (in process): ${ms(perExtraTestMs)}`,
    `targets: app <= ${SYNTH_TARGETS.appPerHelm}x helm ${met(appPerHelm <= SYNTH_TARGETS.appPerHelm)}; ` +
      `end to end <= ${ms(SYNTH_TARGETS.endToEndMs)} ${met(f.endToEndMs <= SYNTH_TARGETS.endToEndMs)}; ` +
      `per extra test <= ${ms(SYNTH_TARGETS.perExtraTestMs)} ${met(perExtraTestMs <= SYNTH_TARGETS.perExtraTestMs)}`,
    '',
  ].join('\n');
}

/** The heading that ends docs/performance.md's synth sections: `--synth-only` rewrites everything above it. */
const AFTER_SYNTH = '## Series per run';

/** docs/performance.md with its synth sections replaced and the rest kept as the last full run wrote it. */
function withSynthSections(docPath: string, synthSections: string): string {
  const old = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
  const rest = old.indexOf(AFTER_SYNTH);
  return rest < 0 ? synthSections : synthSections + old.slice(rest);
}

function verdictQueries(testid: string): ExtraQuery[] {
  return thresholdQueries(BENCH_THRESHOLDS, { testid, window: 3600 }).map((q) => ({
    source: 'verdict',
    title: `${q.threshold.key}: ${q.expression}`,
    expr: q.promql,
  }));
}

async function main(): Promise<void> {
  const rootDir = path.resolve(__dirname, '..');
  if (process.argv.includes('--recording-rules')) return benchRecordingRules(rootDir);
  if (process.argv.includes('--compare-report')) {
    await compareReportText((s) => process.stdout.write(`${s}\n`));
    return;
  }
  const m = machine();
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const startLoad = os.loadavg()[0]!.toFixed(1);
  log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, node ${m.node}; 1-min load average at start ${startLoad}`);

  log('\n== synth (buildEnvironment + environmentFiles, median of 3 after a warm-up) ==');
  const synth = await benchSynth(rootDir);
  // One more row: a single test whose bundle is 5 MiB of many files (spread over several ConfigMaps).
  const large = await benchLargeBundleSynth();
  const synthTable = table(
    ['TESTS', 'MEDIAN', 'OBJECTS', 'YAML'],
    [
      ...synth.figures.map((f) => [String(f.tests), ms(f.medianMs), String(f.objects), `${(f.yamlBytes / 1024).toFixed(0)} KiB`]),
      [
        `1, ${(large.bundleBytes / 1048576).toFixed(1)} MiB bundle (${large.configMaps} ConfigMaps)`,
        ms(large.medianMs),
        String(large.objects),
        `${(large.yamlBytes / 1024).toFixed(0)} KiB`,
      ],
    ],
  );
  log(synthTable + `cost per extra test: ${ms(synth.perExtraTestMs)}`);

  log('\n== npx cdk8s synth vs helm template (median of 5 after a warm-up, interleaved) ==');
  const cli = benchSynthCli(rootDir);
  const cliText = synthCliText(cli, synth.perExtraTestMs);
  log(cliText);
  const docPath = path.join(rootDir, 'docs', 'performance.md');
  if (process.argv.includes('--synth-only')) {
    writeFileSync(docPath, withSynthSections(docPath, synthDoc({ m, startLoad, synthTable, synth, cliText })));
    log('\nwrote the synth sections of docs/performance.md');
    return;
  }

  log('\n== series of one run: 10 runners x 10 URLs, 2 min, native histograms vs classic trend stats ==');
  const series = await benchSeries();
  const native = series.find((s) => s.mode === 'native')!;
  const classic = series.find((s) => s.mode === 'classic')!;
  const seriesTable = table(
    ['MODE', 'HEAD SERIES', 'TOP METRICS'],
    series.map((s) => [s.mode, String(s.series), s.top.map((t) => `${t.name} ${t.value}`).join(', ')]),
  );
  log(seriesTable + `classic / native: ${(classic.series / native.series).toFixed(2)}x`);

  log('\n== query time over 1 h x 10 runners x 10 URLs (median of 3 after a warm-up) ==');
  const q = await benchQueries(rootDir, verdictQueries);
  const queryRows = q.figures.map((f) => [f.source, f.title.slice(0, 60), f.kind, ms(f.medianMs)]);
  const queryTable = table(['SOURCE', 'PANEL / QUERY', 'KIND', 'MEDIAN'], queryRows);
  const slowest = [...q.figures].sort((a, b) => b.medianMs - a.medianMs)[0]!;
  const sources = [...new Set(q.figures.map((f) => f.source))];
  const bySourceTable = table(
    ['SOURCE', 'QUERIES', 'TOTAL', 'SLOWEST'],
    sources.map((src) => {
      const fs = q.figures.filter((f) => f.source === src);
      return [src, String(fs.length), ms(fs.reduce((sum, f) => sum + f.medianMs, 0)), ms(Math.max(...fs.map((f) => f.medianMs)))];
    }),
  );
  const total = q.figures.reduce((s, f) => s + f.medianMs, 0);
  const load = q.loadAverage.map((x) => x.toFixed(1)).join(' / ');
  log(`pushed ${q.samplesNote} in ${ms(q.pushMs)}; 1-min load average during the queries (min / median / max): ${load}`);
  log(queryTable + `${q.figures.length} queries, total ${ms(total)}, slowest ${ms(slowest.medianMs)} (${slowest.source}: ${slowest.title})`);

  const compareReport = await compareReportText(log);
  const doc = [
    synthDoc({ m, startLoad, synthTable, synth, cliText }),
    seriesDoc({ seriesTable, native, classic }),
    queryDoc({ q, total, slowest, load, m, queryTable, bySourceTable }),
    `\n## \`loadtest compare\` and \`loadtest report\` against the verdict\n\nEach on its own 1 h x 10 runners x 10 URLs in Prometheus 2.42 (bench/compare.ts, bench/report.ts), median of 3 after a warm-up; the target is at most 2x the verdict on the same data.\n\n\`\`\`\n${compareReport}\n\`\`\`\n`,
  ].join('');
  writeFileSync(docPath, doc);
  log('\nwrote docs/performance.md');
}

/** `loadtest compare` and `loadtest report` timed against the verdict on the same data (each bench pushes its own hour). */
async function compareReportText(log: (s: string) => void): Promise<string> {
  log('\n== loadtest compare and loadtest report against the verdict (1 h x 10 runners x 10 URLs) ==');
  const compare = formatCompareFigures(await benchCompare(3, log));
  log(compare);
  const report = await benchReport(() => undefined);
  log(report.text);
  return `${compare}\n\n${report.text}`;
}

/** The figures docs/performance.md is written from. */
interface DocFigures {
  readonly m: ReturnType<typeof machine>;
  readonly startLoad: string;
  readonly synthTable: string;
  readonly synth: Awaited<ReturnType<typeof benchSynth>>;
  readonly cliText: string;
  readonly seriesTable: string;
  readonly native: Awaited<ReturnType<typeof benchSeries>>[number];
  readonly classic: Awaited<ReturnType<typeof benchSeries>>[number];
  readonly q: Awaited<ReturnType<typeof benchQueries>>;
  readonly total: number;
  readonly slowest: Awaited<ReturnType<typeof benchQueries>>['figures'][number];
  readonly load: string;
  readonly queryTable: string;
  readonly bySourceTable: string;
}

/** The page's head and its synth sections. */
function synthDoc({ m, startLoad, synthTable, synth, cliText }: Pick<DocFigures, 'm' | 'startLoad' | 'synthTable' | 'synth' | 'cliText'>): string {
  return `# Performance

Figures from \`npm run bench\` (bench/*.ts). They are printed and recorded here, never asserted by tests.
Regenerate with \`npm run bench\` (it rewrites this file; \`npm run bench:synth\` rewrites the two synth sections only).

Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB memory, ${m.os}, Node ${m.node};
1-minute load average at the start: ${startLoad}. Prometheus 2.42 (Debian) with the flags derived from the construct's values
(\`--web.enable-remote-write-receiver --enable-feature=native-histograms\`).

## Synth time of the full platform

Every chart of one environment built, and every file synth writes for it made in memory (\`buildEnvironment\` + \`environmentFiles\`: platform/ and runs/; the one Helm chart of all environments is built once per synth, not per environment), tests
pointing at scripts/sample.js with 4 runners each; the last row is one test whose bundle is about 5 MiB of many files,
some binary (test/support/large-bundle.ts), spread over several ConfigMaps; median of 3 runs after a warm-up.

\`\`\`
${synthTable}\`\`\`

Cost per extra test: **${ms(synth.perExtraTestMs)}** ((t(100) - t(1)) / 99).

## \`npx cdk8s synth\` against \`helm template\`

The three environments synthesized as a user runs it (\`npx cdk8s synth --no-check-upgrade\`, end to end: npx, the
cdk8s CLI and the app), the app alone (cdk8s.yaml \`app:\`: constructs/bin/synth.js running the cached esbuild bundle
of constructs/main.ts and its node_modules, compiled from the bundle's V8 code cache), the app with that cache removed
before each run (as on the first synth after the bundle is rebuilt; the run writes the cache again), and
\`helm template\` (.tools/bin/helm) of a reference chart, in the same run; each once to warm up, then 5 times
interleaved; the median is shown, and the fastest run (on a shared machine, the closest to a quiet one).
The targets: the app at most ${SYNTH_TARGETS.appPerHelm}x \`helm template\`, end to end at most ${ms(SYNTH_TARGETS.endToEndMs)}, at most
${ms(SYNTH_TARGETS.perExtraTestMs)} per extra test. The reference the targets name is kube-prometheus-stack 88.5.3 with its
dependencies in charts/ (kube-state-metrics 8.4.0, prometheus-node-exporter 4.56.1, prometheus-windows-exporter 0.12.7,
grafana 12.11.1, as its Chart.yaml pins them), given as \`K6_PLATFORM_BENCH_CHART=<chart dir>\`: this machine cannot
download charts, so without it the platform's own bundle stands in and the ratio says little.

\`\`\`
${cliText}\`\`\`

`;
}

/** The series section: native histograms against classic trend stats. */
function seriesDoc({ seriesTable, native, classic }: Pick<DocFigures, 'seriesTable' | 'native' | 'classic'>): string {
  return `## Series per run: native histograms vs classic trend stats

The same synthetic run (10 runners x 10 URLs, 2 minutes, test/support/k6-run.ts) written to a fresh Prometheus in
each mode; \`headStats.numSeries\` from \`/api/v1/status/tsdb\`. Classic mode writes p(90), p(95), p(99), min, max, avg,
med as one gauge each per trend and tag set (K6_PROMETHEUS_RW_TREND_STATS=p(90),p(95),p(99),min,max,avg,med);
native mode writes one histogram series per trend and tag set.

\`\`\`
${seriesTable}\`\`\`

Classic / native: **${(classic.series / native.series).toFixed(2)}x** the series.

`;
}

/** The query-time section. */
function queryDoc({
  q,
  total,
  slowest,
  load,
  m,
  queryTable,
  bySourceTable,
}: Pick<DocFigures, 'q' | 'total' | 'slowest' | 'load' | 'm' | 'queryTable' | 'bySourceTable'>): string {
  return `## Query time over 1 h x 10 runners

${q.samplesNote}: one hour of 5 s pushes from 10 runners
over 10 URLs, written twice (native histograms, testid \`bench-1h\`; classic trend stats, testid \`bench-1h-classic\`)
into one Prometheus, each pushed in time order ending
at "now" (Prometheus 2.42 rejects samples older than the head allows and out-of-order samples; pushing each run in
order from now-1h into an empty TSDB works), took ${ms(q.pushMs)} to push. Each query ran once to warm up, then 3
times; the median is shown. Dashboard panel queries (dashboards/generated/*.json; variables substituted: testid = the
run, scenario/name = .*, quantile 0.95, \`$__rate_interval\` 1m, \`$__range\` 1h) run as Grafana runs them: range
queries over the hour at a 15 s step (240 points), instant queries at the end. The classic dashboard runs against the
classic run, everything else against the native run. The verdict queries (constructs/src/k6/thresholds.ts, window 1 h)
and the CLI's progress and \`runs\` queries are instant queries at the end of the run.

The machine is shared (other jobs ran during the benchmark): 1-minute load average while querying (min / median /
max) ${load} on ${m.cores} cores. Read the figures as upper bounds and compare them with each other, not with a
quiet machine.

\`\`\`
${queryTable}\`\`\`

${q.figures.length} queries, total ${ms(total)}; slowest ${ms(slowest.medianMs)} (${slowest.source}: ${slowest.title}).

Per source (sum of the medians: roughly the time to load the whole dashboard once over 1 h):

\`\`\`
${bySourceTable}\`\`\`

Reading: native histograms cut the series several-fold, but on Prometheus 2.42 every quantile over them costs far more
CPU than reading a precomputed classic gauge: \`histogram_quantile(q, sum(rate(h[1m])))\` as a 240-point range query
over 100 histogram series is the expensive shape (latency panels, percentiles, heatmap), and the verdict's
whole-run percentiles (\`increase(h[1h])\` over 100 series) take about a second each. Counter and gauge queries
(VUs, request and error rates, the CLI's progress line, \`runs\`) stay in the tens of milliseconds.
`;
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
