import { GRAFANA_PORT } from '../../monitoring/monitoring-stack';
import { PROMETHEUS_PORT } from '../../contract/prometheus';
import { versions } from '../../contract/versions';
import { include, TPL } from './helpers-tpl';
import { VALUE_PATHS } from './templating';

/**
 * What `helm install` prints afterwards (`templates/NOTES.txt`): the URLs and commands of this release, computed in
 * the template from the release name, its namespace and the values (the same named templates as the objects use), so
 * they name the Services the release's kube-prometheus-stack creates. What differs between environments comes from
 * the values (`environment`, `platform.*`: see ./values.ts).
 */
export function notes(): string {
  const loadTests = `{{ ${VALUE_PATHS.loadTestNamespace} }}`;
  return `${[
    'k6 platform, environment {{ .Values.environment }}: release {{ .Release.Name }} in namespace {{ .Release.Namespace }}.',
    '',
    ...remoteWriteLines(),
    '{{- if .Values.platform.monitoring }}',
    ...grafanaLines(),
    '{{- end }}',
    '',
    `Load tests run in namespace ${loadTests}: \`npx loadtest run <test> --env {{ .Values.environment }}\` applies each run there,`,
    'outside this release, so `helm uninstall` never deletes a run.',
    `{{- if ${VALUE_PATHS.createLoadTestNamespace} }}`,
    `This release owns namespace ${loadTests} (loadTestNamespace.create): uninstalling it deletes the namespace, and with it every run left there.`,
    '{{- else }}',
    `This release does not own namespace ${loadTests} (loadTestNamespace.create is false): it must exist before installing`,
    '(kubectl apply -f dist/{{ .Values.environment }}/platform/0000-namespaces.k8s.yaml creates both namespaces with their labels), and uninstalling keeps it.',
    '{{- end }}',
    '{{- with .Values.platform.secrets }}',
    '',
    'These Secrets must exist (the platform references them; create them before or right after installing):',
    '{{- range . }}',
    `  kubectl -n {{ if eq .in "release" }}{{ $.Release.Namespace }}{{ else if eq .in "loadTests" }}{{ $${VALUE_PATHS.loadTestNamespace} }}{{ else }}{{ .namespace }}{{ end }} create secret generic {{ .name }} {{ .literals }}`,
    '{{- end }}',
    '{{- end }}',
  ].join('\n')}\n`;
}

/**
 * The remote-write URL of the release's Prometheus, and a warning when it is not the one `loadtest run` gives the
 * runners (that one comes from the stack file: `monitoring.releaseName` and `namespaces.monitoring`).
 */
function remoteWriteLines(): string[] {
  const service = `{{ ${include(TPL.prometheusServiceName)} }}`;
  return [
    '{{- if .Values.platform.externalRemoteWrite }}',
    'Remote-write URL for runners: {{ .Values.platform.remoteWriteUrl }}',
    '{{- else }}',
    `{{- $remoteWrite := printf "http://%s.%s:${PROMETHEUS_PORT}/api/v1/write" (${include(TPL.prometheusServiceName)}) .Release.Namespace }}`,
    'Remote-write URL for runners: {{ $remoteWrite }}',
    `Prometheus from a workstation: kubectl -n {{ .Release.Namespace }} port-forward svc/${service} ${PROMETHEUS_PORT}:${PROMETHEUS_PORT}`,
    '{{- if ne $remoteWrite .Values.platform.remoteWriteUrl }}',
    "WARNING: `loadtest run` sends the runners' metrics to {{ .Values.platform.remoteWriteUrl }} (monitoring.releaseName and",
    "namespaces.monitoring of Pulumi.{{ .Values.environment }}.yaml), not to this release's Prometheus: set them to match this release.",
    '{{- end }}',
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
