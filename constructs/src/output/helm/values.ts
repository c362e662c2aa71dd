import { isDeepStrictEqual } from 'node:util';
import { deploySecrets } from '../../platform/deploy';
import { monitoringValues, remoteWriteUrl } from '../../monitoring/monitoring-stack';
import type { PlatformConfig } from '../../config/platform-config';
import { versions } from '../../contract/versions';

/** Per conditional object of the chart (by id), the variant an environment renders. */
export type ObjectVariants = Readonly<Record<string, string>>;

/** A Secret NOTES.txt tells to create: in the release namespace, the load-test namespace, or a named one. */
export interface NotesSecret {
  readonly in: 'release' | 'loadTests' | 'other';
  /** The namespace, when `in` is `other`. */
  readonly namespace?: string;
  readonly name: string;
  /** The `--from-literal=` flags, with `<configKey>` where the value goes (never a secret value). */
  readonly literals: string;
}

/** What the chart's templates read besides the release and the dependency's values (`platform:` in the values). */
export interface PlatformValues {
  /** The conditional objects this environment renders, with their variant. */
  readonly objects: ObjectVariants;
  /** Whether the environment deploys kube-prometheus-stack (the dependency's condition when environments differ). */
  readonly monitoring: boolean;
  /** The remote-write URL `loadtest run` gives the runners (from the stack file), for NOTES.txt. */
  readonly remoteWriteUrl: string;
  /** Whether that URL is an existing Prometheus, not this release's. */
  readonly externalRemoteWrite: boolean;
  /** The Secrets the platform references, for NOTES.txt. */
  readonly secrets: readonly NotesSecret[];
}

/** All values of one environment (what `values-<env>.yaml` holds). */
export function environmentValues(cfg: PlatformConfig, objects: ObjectVariants): Record<string, unknown> {
  const secrets: NotesSecret[] = deploySecrets(cfg).map((s) => ({
    in: s.namespace === cfg.namespaces.monitoring ? 'release' : s.namespace === cfg.namespaces.loadTests ? 'loadTests' : 'other',
    ...(s.namespace !== cfg.namespaces.monitoring && s.namespace !== cfg.namespaces.loadTests ? { namespace: s.namespace } : {}),
    name: s.name,
    literals: s.entries.map((e) => `--from-literal=${e.key}=${e.value ?? `<${e.configKey ?? 'value'}>`}`).join(' '),
  }));
  const platform: PlatformValues = {
    objects,
    monitoring: cfg.monitoring.enabled,
    remoteWriteUrl: remoteWriteUrl(cfg),
    externalRemoteWrite: cfg.monitoring.remoteWriteUrl !== undefined || !cfg.monitoring.enabled,
    secrets,
  };
  return {
    environment: cfg.environment,
    loadTestNamespace: { name: cfg.namespaces.loadTests, create: false },
    platform,
    ...(cfg.monitoring.enabled ? { [versions.kubePrometheusStack.chart]: monitoringValues(cfg) } : {}),
  };
}

/**
 * What every environment's values share: the keys all of them have, with the same value (maps compared key by key,
 * anything else as a whole). As defaults under an environment's complete values, they change nothing: Helm merges
 * maps key by key, and each default equals the environment's own value.
 */
export function commonValues(all: readonly Record<string, unknown>[]): Record<string, unknown> {
  return (common(all) as Record<string, unknown> | undefined) ?? {};
}

function common(values: readonly unknown[]): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (values.every(isMap)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(values[0] ?? {})) {
      if (!values.every((v) => key in v)) continue;
      const c = common(values.map((v) => v[key]));
      if (c !== undefined) out[key] = c;
    }
    return out;
  }
  return values.every((v) => isDeepStrictEqual(v, values[0])) ? values[0] : undefined;
}
