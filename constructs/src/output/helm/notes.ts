import { deploySecrets } from '../../platform/deploy';
import { GRAFANA_PORT, remoteWriteUrl } from '../../monitoring/monitoring-stack';
import type { PlatformConfig } from '../../config/platform-config';
import { PROMETHEUS_PORT } from '../../contract/prometheus';
import { versions } from '../../contract/versions';
import { include, TPL } from './helpers-tpl';
import { escapeTemplate, VALUE_PATHS } from './templating';

/**
 * What `helm install` prints afterwards (`templates/NOTES.txt`): the URLs and commands of this release, computed in
 * the template from the release name, its namespace and the values (the same named templates as the objects use), so
 * they name the Services the release's kube-prometheus-stack creates. Text from the config is escaped for Helm.
 */
export function notes(cfg: PlatformConfig): string {
  const lit = escapeTemplate;
  const ns = '{{ .Release.Namespace }}';
  const loadTests = `{{ ${VALUE_PATHS.loadTestNamespace} }}`;
  const lines = [
    `k6 platform, environment ${lit(cfg.environment)}: release {{ .Release.Name }} in namespace ${ns}.`,
    '',
    ...remoteWriteLines(cfg),
    ...(cfg.monitoring.enabled ? grafanaLines() : []),
    '',
    `Load tests run in namespace ${loadTests}: \`npx loadtest run <test> --env ${lit(cfg.environment)}\` applies each run there,`,
    'outside this release, so `helm uninstall` never deletes a run.',
    `{{- if ${VALUE_PATHS.createLoadTestNamespace} }}`,
    `This release owns namespace ${loadTests} (loadTestNamespace.create): uninstalling it deletes the namespace, and with it every run left there.`,
    '{{- else }}',
    `This release does not own namespace ${loadTests} (loadTestNamespace.create is false): it must exist before installing`,
    `(kubectl apply -f dist/${lit(cfg.environment)}/platform/0000-namespaces.k8s.yaml creates both namespaces with their labels), and uninstalling keeps it.`,
    '{{- end }}',
  ];
  const secrets = deploySecrets(cfg);
  if (secrets.length > 0) {
    lines.push('', 'These Secrets must exist (the platform references them; create them before or right after installing):');
    for (const s of secrets) {
      const literals = s.entries.map((e) => `--from-literal=${e.key}=${e.value ?? `<${e.configKey ?? 'value'}>`}`).join(' ');
      const namespace = s.namespace === cfg.namespaces.monitoring ? ns : s.namespace === cfg.namespaces.loadTests ? loadTests : lit(s.namespace);
      lines.push(`  kubectl -n ${namespace} create secret generic ${lit(s.name)} ${lit(literals)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The remote-write URL of the release's Prometheus, and a warning when it is not the one `loadtest run` gives the
 * runners (that one comes from the stack file: `monitoring.releaseName` and `namespaces.monitoring`).
 */
function remoteWriteLines(cfg: PlatformConfig): string[] {
  if (cfg.monitoring.remoteWriteUrl !== undefined || !cfg.monitoring.enabled) {
    return [`Remote-write URL for runners: ${escapeTemplate(remoteWriteUrl(cfg))}`];
  }
  const service = `{{ ${include(TPL.prometheusServiceName)} }}`;
  const url = `http://${service}.{{ .Release.Namespace }}:${PROMETHEUS_PORT}/api/v1/write`;
  return [
    `{{- $remoteWrite := printf "http://%s.%s:${PROMETHEUS_PORT}/api/v1/write" (${include(TPL.prometheusServiceName)}) .Release.Namespace }}`,
    `Remote-write URL for runners: ${url}`,
    `Prometheus from a workstation: kubectl -n {{ .Release.Namespace }} port-forward svc/${service} ${PROMETHEUS_PORT}:${PROMETHEUS_PORT}`,
    `{{- if ne $remoteWrite ${JSON.stringify(remoteWriteUrl(cfg))} }}`,
    `WARNING: \`loadtest run\` sends the runners' metrics to ${escapeTemplate(remoteWriteUrl(cfg))} (monitoring.releaseName and`,
    `namespaces.monitoring of Pulumi.${escapeTemplate(cfg.environment)}.yaml), not to this release's Prometheus: set them to match this release.`,
    '{{- end }}',
  ];
}

/** Grafana's address: its ingress when the values give it one with a host, else its Service. */
function grafanaLines(): string[] {
  const grafana = `(get (index .Values "${versions.kubePrometheusStack.chart}" | default dict) "grafana" | default dict)`;
  const service = `{{ ${include(TPL.grafanaFullname)} }}`;
  return [
    `{{- $ingress := get ${grafana} "ingress" | default dict }}`,
    '{{- if and $ingress.enabled $ingress.hosts }}',
    'Grafana: {{ if $ingress.tls }}https{{ else }}http{{ end }}://{{ first $ingress.hosts }}/',
    '{{- else }}',
    `Grafana: http://${service}.{{ .Release.Namespace }}.svc:${GRAFANA_PORT}/`,
    '{{- end }}',
    `  from a workstation: kubectl -n {{ .Release.Namespace }} port-forward svc/${service} 3000:${GRAFANA_PORT}  then open http://localhost:3000/`,
  ];
}
