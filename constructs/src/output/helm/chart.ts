import * as YAML from 'yaml';
import type { ChartManifest, KubeObject } from '../../platform/deploy';
import type { PlatformConfig } from '../../config/platform-config';
import { versions } from '../../contract/versions';
import { helpersTpl } from './helpers-tpl';
import { notes } from './notes';
import { escapeTemplate, templatedObject, templatingContext, VALUE_PATHS, type TemplatedObject } from './templating';
import { commonValues, environmentValues, type ObjectVariants } from './values';
import { valuesSchema } from './values-schema';

/**
 * One Helm chart for the platform, from the objects of every environment, and the values of each environment.
 *
 * Each object is templated (./templating.ts); the same object of two environments (same kind, name and namespace
 * role) usually gives the same text. An object whose text is the same in every environment is one unconditional
 * template. Any other object (in some environments only, or different between them) becomes variants, each rendered
 * only when the values select it (`platform.objects.<id>: <variant>`), so that the chart rendered with an
 * environment's values gives exactly the objects synth writes for it. `values.yaml` holds what every environment
 * shares; `values-<env>.yaml` holds all of one environment's values.
 */

/** The chart's input for one environment. */
export interface ChartEnvironment {
  /** The parsed configuration of the environment. */
  readonly config: PlatformConfig;
  /** The environment's chart manifests (from `platformManifests`), in apply order. */
  readonly manifests: readonly ChartManifest[];
}

/** Props of {@link platformChart}. */
export interface PlatformChartProps {
  /** Every environment the chart serves (at least one), in the order their values files are listed. */
  readonly environments: readonly ChartEnvironment[];
  /** The YAML text of one object (synth's serializer). */
  readonly serialize: (o: KubeObject) => string;
  /** Chart name, version and header of generated files. */
  readonly chart: { readonly name: string; readonly version: string; readonly header: string };
}

/** What a chart is made of: its files (paths relative to its directory) and each environment's values. */
export interface PlatformChart {
  /** Chart.yaml, values.yaml, values.schema.json and templates/. */
  readonly files: Map<string, string>;
  /** Each environment's complete values, by environment name. */
  readonly values: Map<string, Record<string, unknown>>;
}

/** Builds the chart of the given environments. */
export function platformChart(props: PlatformChartProps): PlatformChart {
  const envs = props.environments;
  if (envs.length === 0) throw new Error('helm chart: no environment to build a chart for');
  const kpsVersions = new Set(envs.filter((e) => e.config.monitoring.enabled).map((e) => e.config.monitoring.chart.version));
  if (kpsVersions.size > 1) {
    const pins = envs.map((e) => `${e.config.environment}: ${e.config.monitoring.chart.version}`).join(', ');
    throw new Error(`helm chart: the environments pin different kube-prometheus-stack versions (${pins}); one chart has one dependency version`);
  }
  const { templates, variants } = objectTemplates(envs, props.serialize);
  const values = new Map(envs.map((e) => [e.config.environment, environmentValues(e.config, variants.get(e.config.environment)!)]));
  const files = new Map<string, string>();
  files.set('Chart.yaml', props.chart.header + YAML.stringify(chartYaml(envs, props.chart), { lineWidth: 0 }));
  files.set('values.yaml', props.chart.header + YAML.stringify(commonValues([...values.values()]), { lineWidth: 0 }));
  const objectIds: Record<string, string[]> = {};
  for (const v of variants.values())
    for (const [id, name] of Object.entries(v)) objectIds[id] = [...new Set([...(objectIds[id] ?? []), name])].sort();
  const schema = valuesSchema(
    envs.map((e) => e.config),
    objectIds,
  );
  files.set('values.schema.json', `${JSON.stringify(schema, null, 2)}\n`);
  files.set('templates/_helpers.tpl', helpersTpl());
  for (const [file, text] of templates) files.set(`templates/${file}`, props.chart.header + text);
  files.set('templates/NOTES.txt', notes());
  return { files, values };
}

function chartYaml(envs: readonly ChartEnvironment[], chart: PlatformChartProps['chart']) {
  const kps = versions.kubePrometheusStack;
  const monitored = envs.filter((e) => e.config.monitoring.enabled);
  const first = monitored[0]?.config;
  const names = envs.map((e) => e.config.environment).join(', ');
  return {
    apiVersion: 'v2',
    name: chart.name,
    description: `k6 load-testing platform (environments: ${names}): test scripts, dashboards, NetworkPolicies, and kube-prometheus-stack (no load-test run: loadtest run starts those)`,
    type: 'application',
    version: chart.version,
    appVersion: chart.version,
    kubeVersion: `>=${versions.kubernetes}.0-0`,
    home: BUNDLE_CHART_HOME,
    sources: [...BUNDLE_CHART_SOURCES],
    ...(first !== undefined
      ? {
          dependencies: [
            {
              name: kps.chart,
              version: first.monitoring.chart.version,
              repository: first.monitoring.chart.repository,
              // Only when some environment runs without the stack: its values turn the dependency off.
              ...(monitored.length < envs.length ? { condition: 'platform.monitoring' } : {}),
            },
          ],
        }
      : {}),
  };
}

/** Chart.yaml `home`: the platform's repository, as the packages' `repository` declares it (a test keeps them equal). */
export const BUNDLE_CHART_HOME = 'https://github.com/k6-platform/k6-platform';
/** Chart.yaml `sources`: the platform's repository, then the upstream projects the chart deploys and runs. */
export const BUNDLE_CHART_SOURCES = [
  BUNDLE_CHART_HOME,
  'https://github.com/grafana/k6',
  'https://github.com/prometheus-community/helm-charts',
] as const;

/**
 * The template files (one per cdk8s chart file, objects in the order the environments list them) and, per
 * environment, the variant of each conditional object it has.
 */
function objectTemplates(envs: readonly ChartEnvironment[], serialize: (o: KubeObject) => string) {
  // file → id → variant texts (in order of first appearance) and the environments having each
  const byFile = new Map<string, Map<string, { texts: string[]; loadTestNamespace: boolean; envs: Map<string, number> }>>();
  for (const { config, manifests } of envs) {
    const ctx = templatingContext(config);
    for (const m of manifests) {
      const file = `${m.fileName.replace(/\.k8s\.yaml$/, '').replace(/\.ya?ml$/, '')}.yaml`;
      const ids = byFile.get(file) ?? new Map();
      byFile.set(file, ids);
      for (const o of m.objects) {
        if (o.apiVersion === 'v1' && o.kind === 'Namespace' && o.metadata.name === config.namespaces.monitoring) continue;
        const t: TemplatedObject = templatedObject(o, ctx, serialize, escapeTemplate);
        const entry = ids.get(t.id) ?? { texts: [], loadTestNamespace: t.loadTestNamespace, envs: new Map() };
        ids.set(t.id, entry);
        let k = entry.texts.indexOf(t.text);
        if (k === -1) k = entry.texts.push(t.text) - 1;
        entry.envs.set(config.environment, k);
      }
    }
  }
  const variants = new Map<string, ObjectVariants>(envs.map((e) => [e.config.environment, {}]));
  const templates = new Map<string, string>();
  for (const [file, ids] of byFile) {
    const docs: string[] = [];
    for (const [id, entry] of ids) {
      const everywhere = entry.texts.length === 1 && entry.envs.size === envs.length;
      entry.texts.forEach((text, k) => {
        const conditions = [
          ...(everywhere ? [] : [`eq (get .Values.platform.objects ${JSON.stringify(id)} | toString) "${variantName(k)}"`]),
          ...(entry.loadTestNamespace ? [VALUE_PATHS.createLoadTestNamespace] : []),
        ];
        const condition = conditions.length === 1 ? conditions[0]! : conditions.map((c) => `(${c})`).join(' ');
        docs.push(conditions.length === 0 ? text : `{{- if ${conditions.length > 1 ? `and ${condition}` : condition} }}\n${text}{{- end }}\n`);
      });
      if (!everywhere) for (const [env, k] of entry.envs) (variants.get(env) as Record<string, string>)[id] = variantName(k);
    }
    if (docs.length > 0) templates.set(file, docs.join('---\n'));
  }
  return { templates, variants };
}

/** Variant names: `a`, `b`, … (in the order the environments first show them). */
function variantName(k: number): string {
  return k < 26 ? String.fromCharCode(97 + k) : `v${k}`;
}
