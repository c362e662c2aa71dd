import type { KubeObject } from '../../platform/deploy';
import type { PlatformConfig } from '../../config/platform-config';
import { LABELS } from '../../contract/labels';
import { monitoringPodLabels } from '../../network/network-policies';
import { NAMESPACE_NAME_LABEL } from '../../network/network-rules';
import { include, TPL } from './helpers-tpl';

/**
 * Turns synthesized objects into template text. The objects stay what synth wrote, except where the release decides:
 *
 * - `metadata.namespace`: the monitoring namespace becomes `.Release.Namespace`, the load-test namespace the value
 *   `loadTestNamespace.name`;
 * - `metadata.labels`: synth's `managed-by`/`name` give way to the standard labels of `_helpers.tpl`, and the
 *   environment label is the value `environment`;
 * - the load-test Namespace is rendered only with `loadTestNamespace.create`;
 * - in `matchLabels` (NetworkPolicy selectors), every label value synth derived from the kube-prometheus-stack release
 *   becomes the named template computing it from the release and the dependency's overrides.
 *
 * Placeholders (plain scalars no object holds) stand where an expression goes; the object is serialized with the
 * serializer synth uses, made inert for Helm (`{{` escaped), and the placeholders replaced by their expressions.
 */

/** The values the templates read (besides the dependency's, read by `_helpers.tpl`). */
export const VALUE_PATHS = {
  environment: '.Values.environment',
  loadTestNamespace: '.Values.loadTestNamespace.name',
  createLoadTestNamespace: '.Values.loadTestNamespace.create',
};

const PLACEHOLDER = 'k6platformhelmplaceholder';
const LABELS_PLACEHOLDER = `${PLACEHOLDER}labels`;

/** What the templates of one environment replace: the namespaces and the labels derived from the stack's release. */
export interface TemplatingContext {
  readonly environment: string;
  readonly monitoringNamespace: string;
  readonly loadTestNamespace: string;
  /** `<label key>=<value synth wrote>` → template expression, for values in `matchLabels`. */
  readonly selectorValues: ReadonlyMap<string, string>;
}

/** The context for an environment: the label values synth computes for its release, with their template equivalents. */
export function templatingContext(cfg: PlatformConfig): TemplatingContext {
  const pods = monitoringPodLabels(cfg.monitoring.releaseName);
  const pairs: [string, string, string][] = [
    ['operator.prometheus.io/name', pods.prometheus['operator.prometheus.io/name'], include(TPL.prometheusCrName)],
    [LABELS.name, pods.grafana[LABELS.name], include(TPL.grafanaName)],
    [LABELS.instance, pods.grafana[LABELS.instance], '.Release.Name'],
    ['alertmanager', pods.alertmanager.alertmanager, include(TPL.alertmanagerCrName)],
    ['app', pods.operator.app, `printf "%s-operator" (${include(TPL.kpsName)})`],
    ['release', pods.operator.release, '.Release.Name'],
    [LABELS.name, pods.kubeStateMetrics[LABELS.name], include(TPL.kubeStateMetricsName)],
    [LABELS.instance, pods.kubeStateMetrics[LABELS.instance], '.Release.Name'],
    [NAMESPACE_NAME_LABEL, cfg.namespaces.loadTests, VALUE_PATHS.loadTestNamespace],
  ];
  return {
    environment: cfg.environment,
    monitoringNamespace: cfg.namespaces.monitoring,
    loadTestNamespace: cfg.namespaces.loadTests,
    selectorValues: new Map(pairs.map(([key, value, expr]) => [`${key}=${value}`, expr])),
  };
}

/** One object as template text, and what identifies it across environments. */
export interface TemplatedObject {
  /**
   * `<kind>/<namespace>/<name>`, the namespace being `release` or `loadTests` for the platform's two (the same object
   * of two environments has the same id even when their namespaces are named differently), `-` for a cluster object.
   */
  readonly id: string;
  /** The template text (one YAML document). */
  readonly text: string;
  /** Whether it is the load-test Namespace (rendered only with `loadTestNamespace.create`). */
  readonly loadTestNamespace: boolean;
}

/**
 * The template text of one object. `serialize` is synth's serializer of one object; `escape` makes its text inert for
 * Helm. Two environments' objects that differ only where the templates decide have the same text.
 */
export function templatedObject(
  o: KubeObject,
  ctx: TemplatingContext,
  serialize: (o: KubeObject) => string,
  escape: (text: string) => string,
): TemplatedObject {
  const exprs: string[] = [];
  const placeholder = (expr: string) => `${PLACEHOLDER}${exprs.push(expr) - 1}x`;
  const text = escape(serialize(templatedCopy(o, ctx, placeholder)));
  // Each expression's placeholder and the labels key and value: any other occurrence is the object's own text.
  if (text.split(PLACEHOLDER).length - 1 !== exprs.length + 2) {
    throw new Error(`helm bundle: '${o.kind}/${o.metadata.name ?? '?'}' holds the text '${PLACEHOLDER}', reserved for template placeholders`);
  }
  const body = text
    .replace(
      new RegExp(`^( *)${LABELS_PLACEHOLDER}: ${LABELS_PLACEHOLDER}$`, 'm'),
      (_, indent: string) => `${indent}{{- include "${TPL.labels}" . | nindent ${indent.length} }}`,
    )
    .replace(new RegExp(`${PLACEHOLDER}(\\d+)x`, 'g'), (_, i: string) => `{{ ${exprs[Number(i)]!} | quote }}`);
  const role = (ns: string | undefined) =>
    ns === undefined ? '-' : ns === ctx.monitoringNamespace ? 'release' : ns === ctx.loadTestNamespace ? 'loadTests' : ns;
  const loadTestNamespace = isLoadTestNamespace(o, ctx);
  const name = loadTestNamespace ? 'loadTests' : (o.metadata.name ?? '?');
  return { id: `${o.kind}/${role(o.metadata.namespace)}/${name}`, text: body, loadTestNamespace };
}

/**
 * Makes text inert for Helm's template engine: every `{{` becomes an action printing `{{`, so objects that hold
 * template-like text (Grafana legends such as `{{instance}}`) render byte for byte.
 */
export function escapeTemplate(text: string): string {
  return text.replace(/\{\{/g, '{{ "{{" }}');
}

/** Whether an object is the load-test Namespace (rendered only when the release creates it). */
export function isLoadTestNamespace(o: KubeObject, ctx: Pick<TemplatingContext, 'loadTestNamespace'>): boolean {
  return o.apiVersion === 'v1' && o.kind === 'Namespace' && o.metadata.name === ctx.loadTestNamespace;
}

function templatedCopy(o: KubeObject, ctx: TemplatingContext, placeholder: (expr: string) => string): KubeObject {
  const { [LABELS.managedBy]: _managedBy, [LABELS.name]: _name, ...labels } = (o.metadata.labels ?? {}) as Record<string, string>;
  if (labels[LABELS.environment] === ctx.environment) labels[LABELS.environment] = placeholder(VALUE_PATHS.environment);
  const metadata: Record<string, unknown> = { ...o.metadata, labels: { ...labels, [LABELS_PLACEHOLDER]: LABELS_PLACEHOLDER } };
  if (o.metadata.namespace === ctx.monitoringNamespace) metadata.namespace = placeholder('.Release.Namespace');
  else if (o.metadata.namespace === ctx.loadTestNamespace) metadata.namespace = placeholder(VALUE_PATHS.loadTestNamespace);
  if (isLoadTestNamespace(o, ctx)) metadata.name = placeholder(VALUE_PATHS.loadTestNamespace);
  const copy: KubeObject = { ...o, metadata: metadata as KubeObject['metadata'] };
  if (o.kind === 'NetworkPolicy') (copy as Record<string, unknown>).spec = templatedSelectors((o as { spec?: unknown }).spec, ctx, placeholder);
  return copy;
}

/** A copy of `node` where the values of every `matchLabels` that synth derived from the release are placeholders. */
function templatedSelectors(node: unknown, ctx: TemplatingContext, placeholder: (expr: string) => string, key?: string): unknown {
  if (Array.isArray(node)) return node.map((n) => templatedSelectors(n, ctx, placeholder));
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node as Record<string, unknown>);
  if (key === 'matchLabels') {
    return Object.fromEntries(
      entries.map(([k, v]) => {
        const expr = typeof v === 'string' ? ctx.selectorValues.get(`${k}=${v}`) : undefined;
        return [k, expr !== undefined ? placeholder(expr) : v];
      }),
    );
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, templatedSelectors(v, ctx, placeholder, k)]));
}
