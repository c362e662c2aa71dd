/**
 * README snippets generated from real files (versions.ts, package.json), so the README never drifts from the pins.
 * `npm run docs:readme` rewrites them; test/readme.test.ts fails when they are stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { versions } from '../../constructs/src/contract/versions';

const repoRoot = path.resolve(__dirname, '..', '..');
export const README = path.join(repoRoot, 'README.md');

function dependencyVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const v = pkg.dependencies?.[name] ?? pkg.devDependencies?.[name];
  if (v === undefined) throw new Error(`package.json has no dependency ${name}`);
  return v;
}

/** The compatibility table: what this version of the platform pins and was tested with. */
export function compatibilityTable(): string {
  const kps = versions.kubePrometheusStack;
  const rows: [string, string, string][] = [
    ['Kubernetes API', `${versions.kubernetes}+`, 'manifests built with cdk8s-plus-27'],
    ['cdk8s / cdk8s-plus-27', `${dependencyVersion('cdk8s')} / ${dependencyVersion('cdk8s-plus-27')}`, 'construct library'],
    ['kube-prometheus-stack chart', kps.version, `Prometheus ${kps.prometheus}, Grafana chart ${kps.grafanaChart} (${kps.repository})`],
    ['k6', versions.k6, `runner image \`${versions.k6Image}:${versions.k6}\` (remote-write output built in)`],
    ['k6-operator (mode "operator" only)', `${versions.k6OperatorMin}+`, 'TestRun `spec.args`; older operators drop it silently'],
    ['@grafana/grafana-foundation-sdk', dependencyVersion('@grafana/grafana-foundation-sdk'), 'dashboards as code'],
    [
      '@pulumi/pulumi / @pulumi/kubernetes',
      `${dependencyVersion('@pulumi/pulumi')} / ${dependencyVersion('@pulumi/kubernetes')}`,
      '3.249+ needs Node 22',
    ],
    [
      'Prometheus used by the tests',
      '2.42 (Debian bookworm) and 3.5.3 (Debian sid)',
      'every Prometheus-backed test runs on both (3.5.3: `npm run test:node22` and `test:prometheus3`, see test/suites.sh); 2.42 needs `--enable-feature=native-histograms`, which the construct sets',
    ],
  ];
  return ['| component | version | note |', '| --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const blocks: Record<string, () => string> = { compat: compatibilityTable };

/** The README with every generated block replaced by a fresh rendering. */
export function renderReadme(text: string): string {
  let out = text;
  for (const [name, render] of Object.entries(blocks)) {
    const re = new RegExp(`(<!-- ${name}:start[^>]*-->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(out)) throw new Error(`README.md has no <!-- ${name}:start --> ... <!-- ${name}:end --> block`);
    out = out.replace(re, (_m, a: string, b: string) => `${a}${render()}\n${b}`);
  }
  return out;
}

if (require.main === module) {
  writeFileSync(README, renderReadme(readFileSync(README, 'utf8')));
  console.error('README.md generated blocks updated');
}
