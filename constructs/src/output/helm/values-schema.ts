import { z } from 'zod';
import { platformConfigSchema } from '../../config/schema';
import { monitoringConfig } from '../../config/monitoring';
import { DNS_LABEL, dnsSubdomain } from '../../config/rules';
import type { PlatformConfig } from '../../config/platform-config';
import { versions } from '../../contract/versions';

/**
 * The umbrella chart's `values.schema.json`: the values the chart reads, and those of the dependency that the platform
 * derives from its config, each with the rule of the config schema it comes from (the same zod pieces, converted with
 * `z.toJSONSchema`), so that `helm install`/`helm template` refuse a bad value and name it. Everything else under
 * `kube-prometheus-stack:` passes through to the dependency unchecked (its own chart owns those values).
 *
 * Draft 7, the newest draft helm 3's validator (gojsonschema) reads. Refinements of the config schema that JSON
 * Schema cannot express (zod drops them) are checked by synth only; no rule here uses a regex feature Go lacks.
 */
export function valuesSchema(configs: readonly PlatformConfig[], objects: Readonly<Record<string, readonly string[]>>): Record<string, unknown> {
  const namespaces = platformConfigSchema.shape.namespaces.unwrap().shape;
  const monitoring = monitoringConfig.shape;
  const prometheus = monitoring.prometheus.unwrap().shape;
  const name = monitoring.releaseName.unwrap();
  // The config's rule for a release name, or empty: kube-prometheus-stack and its subcharts then derive their names
  // from the release. One pattern (not a union), so that helm's message is the pattern the value misses.
  const nameOverride = z
    .string()
    .max(name.maxLength ?? 53)
    .regex(new RegExp(`^(${DNS_LABEL.source.replace(/^\^|\$$/g, '')})?$`))
    .optional();
  const subchart = z.looseObject({ nameOverride, fullnameOverride: nameOverride });
  const kps = z
    .looseObject({
      fullnameOverride: nameOverride.describe('Names of the stack (cut to 26 characters); empty: derived from the release name'),
      nameOverride,
      namespaceOverride: z
        .literal('')
        .optional()
        .describe("Must stay empty: the platform's NetworkPolicies and dashboards are in the release namespace, with the stack"),
      cleanPrometheusOperatorObjectNames: z.boolean().optional(),
      prometheus: z
        .looseObject({
          prometheusSpec: z
            .looseObject({ retention: prometheus.retention.unwrap().optional(), retentionSize: prometheus.retentionSize.unwrap().optional() })
            .optional(),
        })
        .optional(),
      alertmanager: z.looseObject({ enabled: z.boolean().optional() }).optional(),
      grafana: subchart
        .extend({ ingress: z.looseObject({ enabled: z.boolean().optional(), hosts: z.array(dnsSubdomain).optional() }).optional() })
        .optional(),
      'kube-state-metrics': subchart.optional(),
    })
    .describe('Values of the kube-prometheus-stack dependency');
  const monitored = configs.filter((c) => c.monitoring.enabled).length;
  const environments = configs.map((c) => c.environment);
  const variants = Object.fromEntries(Object.entries(objects).map(([id, names]) => [id, z.enum(names as [string, ...string[]]).optional()]));
  const schema = z.strictObject({
    environment: z.enum(environments as [string, ...string[]]).describe('The environment: pass its values file, -f values-<env>.yaml'),
    platform: z
      .looseObject({
        objects: z.strictObject(variants).describe('The objects of some environments only, or different between them: the variant to render'),
      })
      .describe("What the chart's templates read from the environment's stack file"),
    loadTestNamespace: z
      .strictObject({
        name: namespaces.loadTests.unwrap().describe('Namespace of the test scripts and of the runs `loadtest run` applies'),
        create: z.boolean().describe('Whether the release creates (and on uninstall deletes) that namespace'),
      })
      .describe('The load-test namespace'),
    ...(monitored === configs.length
      ? { [versions.kubePrometheusStack.chart]: kps }
      : monitored > 0
        ? { [versions.kubePrometheusStack.chart]: kps.optional() }
        : {}),
    // helm hands every chart a `global` map (empty unless set), validated with the chart's values
    global: z.looseObject({}).optional(),
  });
  return z.toJSONSchema(schema, { target: 'draft-07', io: 'input' }) as Record<string, unknown>;
}
