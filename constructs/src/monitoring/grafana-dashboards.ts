import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { LABELS } from '../contract/labels';
import { DASHBOARD_FOLDER_ANNOTATION, DASHBOARD_LABEL } from './monitoring-stack';
import { CONFIG_MAP_LIMIT_BYTES } from '../load-test/test-scripts';

/** Props of {@link Dashboards}. */
export interface DashboardsProps {
  /**
   * Directory holding the dashboard JSON files (`<uid>.json`), as `npm run dashboards` writes them.
   * @example "<repo>/dashboards/generated"
   */
  readonly directory: string;
  /**
   * Grafana folder the dashboards go into (the sidecar reads it from the folder annotation).
   * @default "k6"
   */
  readonly folder?: string;
  /**
   * Namespace of the ConfigMaps (the sidecar of the platform's Grafana watches all namespaces).
   * @default - the chart's namespace (the monitoring namespace)
   */
  readonly namespace?: string;
  /**
   * Only these dashboards (file names without `.json`).
   * @default - every `*.json` file of the directory
   */
  readonly include?: readonly string[];
  /**
   * New defaults for dashboard variables by name (text box, custom and constant variables), e.g. the load-test
   * namespace of the runner panels. A dashboard is re-serialized only when a default actually changes.
   * @example { "runner_namespace": "loadtests" }
   * @default - the defaults in the JSON
   */
  readonly variableDefaults?: Readonly<Record<string, string>>;
}

/** One provisioned dashboard. */
export interface ProvisionedDashboard {
  /** File name without `.json` (the dashboard uid). */
  readonly name: string;
  /** The ConfigMap holding it. */
  readonly configMap: kplus.ConfigMap;
  /** Bytes counted against the ConfigMap limit (key + JSON). */
  readonly sizeBytes: number;
}

/** Valid file base name / ConfigMap key stem. */
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Grafana dashboards as ConfigMaps for the Grafana dashboards sidecar of kube-prometheus-stack: one ConfigMap per
 * dashboard JSON file, labelled `grafana_dashboard: "1"`, data key `<name>.json`, folder annotation `grafana_folder`.
 * The JSON is taken as it is (no re-serialization), so the deployed dashboard is byte for byte the committed file.
 */
export class Dashboards extends Construct {
  /** The dashboards, in file-name order. */
  public readonly dashboards: readonly ProvisionedDashboard[];
  /** The Grafana folder. */
  public readonly folder: string;

  public constructor(scope: Construct, id: string, props: DashboardsProps) {
    super(scope, id);
    this.folder = props.folder ?? 'k6';
    let files: string[];
    try {
      files = readdirSync(props.directory).filter((f) => f.endsWith('.json'));
    } catch (e) {
      throw new Error(`Dashboards: 'directory' ${props.directory} cannot be read (${(e as Error).message}); run npm run dashboards to generate it`);
    }
    const names = files.map((f) => f.slice(0, -'.json'.length)).sort();
    const wanted = props.include ?? names;
    const missing = wanted.filter((n) => !names.includes(n));
    if (missing.length > 0) {
      throw new Error(
        `Dashboards: 'include' names dashboards that are not in ${props.directory}: ${missing.join(', ')}; found ${names.length > 0 ? names.join(', ') : 'none'}`,
      );
    }
    if (wanted.length === 0) throw new Error(`Dashboards: 'directory' ${props.directory} holds no *.json dashboard; run npm run dashboards`);

    const out: ProvisionedDashboard[] = [];
    for (const name of names.filter((n) => wanted.includes(n))) {
      if (!NAME.test(name)) {
        throw new Error(`Dashboards: dashboard file name '${name}.json' must be a lowercase DNS label (it names the ConfigMap), got ${name}`);
      }
      const file = path.join(props.directory, `${name}.json`);
      let json = readFileSync(file, 'utf8');
      let uid: unknown;
      try {
        uid = (JSON.parse(json) as { uid?: unknown }).uid;
      } catch (e) {
        throw new Error(`Dashboards: ${file} is not valid JSON (${(e as Error).message})`);
      }
      if (uid !== name) throw new Error(`Dashboards: ${file} must hold the dashboard with uid '${name}', got ${JSON.stringify(uid)}`);
      json = applyVariableDefaults(json, props.variableDefaults ?? {});
      const key = `${name}.json`;
      const sizeBytes = Buffer.byteLength(key) + Buffer.byteLength(json);
      if (sizeBytes > CONFIG_MAP_LIMIT_BYTES) {
        throw new Error(
          `Dashboards: dashboard '${name}' is ${sizeBytes} bytes, over the ConfigMap limit of ${CONFIG_MAP_LIMIT_BYTES} bytes (1 MiB); split it into smaller dashboards`,
        );
      }
      const configMap = new kplus.ConfigMap(this, `Dashboard-${name}`, {
        metadata: {
          name: `grafana-dashboard-${name}`,
          ...(props.namespace !== undefined ? { namespace: props.namespace } : {}),
          labels: { [DASHBOARD_LABEL.key]: DASHBOARD_LABEL.value, [LABELS.component]: 'dashboard' },
          annotations: { [DASHBOARD_FOLDER_ANNOTATION]: this.folder },
        },
        data: { [key]: json },
      });
      out.push({ name, configMap, sizeBytes });
    }
    this.dashboards = out;
  }
}

/** Variable types whose default is a plain value. */
const VALUE_VARIABLES = new Set(['textbox', 'custom', 'constant']);

interface VariableJson {
  name?: string;
  type?: string;
  query?: unknown;
  current?: { text?: unknown; value?: unknown };
  options?: { text?: unknown; value?: unknown; selected?: boolean }[];
}

/**
 * Sets the default of the named value variables; returns `json` unchanged (same bytes) when nothing differs, else the
 * dashboard re-serialized as `npm run dashboards` writes it (2-space JSON and a newline).
 */
export function applyVariableDefaults(json: string, defaults: Readonly<Record<string, string>>): string {
  if (Object.keys(defaults).length === 0) return json;
  const d = JSON.parse(json) as { templating?: { list?: VariableJson[] } };
  let changed = false;
  for (const v of d.templating?.list ?? []) {
    const value = v.name !== undefined ? defaults[v.name] : undefined;
    if (value === undefined || !VALUE_VARIABLES.has(v.type ?? '') || v.current?.value === value) continue;
    changed = true;
    if (v.type !== 'custom') v.query = value;
    v.current = { text: value, value };
    if (v.options !== undefined) v.options = v.options.map((o) => ({ ...o, selected: o.value === value }));
  }
  return changed ? JSON.stringify(d, null, 2) + '\n' : json;
}
