import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { DefaultDenyPolicy, MonitoringNetworkPolicies } from '../src/network/network-policies';
import { parsePlatformConfig, type PlatformConfigInput } from '../src/config/platform-config';
import { buildPlatform } from '../src/platform/platform';
import { admitted, evaluate, type Endpoint } from '../../test/support/network-policy';
import { validateManifests, type Manifest } from '../../test/support/schemas';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SCRIPTS_DIR = path.resolve(__dirname, '..', '..', 'scripts');
const byName = (objs: Obj[], name: string): Obj => {
  const o = objs.find((x) => x.kind === 'NetworkPolicy' && x.metadata.name === name);
  if (o === undefined) throw new Error(`no NetworkPolicy ${name} in ${objs.map((x) => `${x.kind}/${x.metadata?.name}`).join(', ')}`);
  return o;
};

function monitoringPolicies(props: Partial<ConstructorParameters<typeof MonitoringNetworkPolicies>[2]> = {}): Obj[] {
  const chart = new Chart(Testing.app(), 'm');
  new MonitoringNetworkPolicies(chart, 'Policies', {
    namespace: 'monitoring',
    releaseName: 'kube-prometheus-stack',
    loadTestsNamespace: 'k6',
    ...props,
  });
  return Testing.synth(chart) as Obj[];
}

describe('MonitoringNetworkPolicies', () => {
  test('defaults: default-deny ingress, then Prometheus, Grafana, operator and kube-state-metrics, field by field', () => {
    // WHEN
    const objs = monitoringPolicies();
    // THEN
    expect(objs.map((o) => o.metadata.name)).toEqual([
      'k6-platform-default-deny-ingress',
      'k6-platform-prometheus',
      'k6-platform-grafana',
      'k6-platform-operator',
      'k6-platform-kube-state-metrics',
    ]);
    for (const o of objs) {
      expect(o.metadata.namespace).toBe('monitoring');
      // ingress only: egress (scraping node-exporter, kubelets, the API server; Grafana's queries) stays open
      expect(o.spec.policyTypes).toEqual(['Ingress']);
    }
    expect(byName(objs, 'k6-platform-default-deny-ingress').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'], ingress: [] });
    const prometheus = {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus', 'operator.prometheus.io/name': 'kube-prometheus-stack-prometheus' } },
    };
    const grafana = { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': 'kube-prometheus-stack' } } };
    // Pod labels as the pinned chart selects them: kube-prometheus-stack 88.5.3 templates/prometheus/service.yaml
    // (app.kubernetes.io/name + operator.prometheus.io/name = <fullname>-prometheus), grafana 12.11.1 selector labels.
    expect(byName(objs, 'k6-platform-prometheus').spec).toEqual({
      ...prometheus,
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'k6' } },
              podSelector: { matchLabels: { 'app.kubernetes.io/component': 'runner' } },
            },
            grafana,
            prometheus,
          ],
          ports: [{ port: 9090, protocol: 'TCP' }],
        },
        // the config-reloader sidecar (chart prometheus.service.reloaderWebPort: 8080), scraped by Prometheus itself
        { from: [prometheus], ports: [{ port: 8080, protocol: 'TCP' }] },
      ],
    });
    expect(byName(objs, 'k6-platform-grafana').spec).toEqual({
      ...grafana,
      policyTypes: ['Ingress'],
      ingress: [{ from: [prometheus], ports: [{ port: 3000, protocol: 'TCP' }] }],
    });
    // the admission webhook (chart prometheusOperator.tls.internalPort: 10250) is called by the API server, which is
    // not a pod: open to every source, as the chart's own templates/prometheus-operator/networkpolicy.yaml does
    expect(byName(objs, 'k6-platform-operator').spec).toEqual({
      podSelector: { matchLabels: { app: 'kube-prometheus-stack-operator', release: 'kube-prometheus-stack' } },
      policyTypes: ['Ingress'],
      ingress: [{ ports: [{ port: 10250, protocol: 'TCP' }] }],
    });
    expect(byName(objs, 'k6-platform-kube-state-metrics').spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'kube-state-metrics', 'app.kubernetes.io/instance': 'kube-prometheus-stack' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [prometheus],
          ports: [
            { port: 8080, protocol: 'TCP' },
            { port: 8081, protocol: 'TCP' },
          ],
        },
      ],
    });
    expect(validateManifests(objs as Manifest[])).toEqual([]);
  });

  test('all options: Alertmanager peers and Prometheus; Grafana open to ingress controllers; other names', () => {
    // WHEN
    const objs = monitoringPolicies({ namespace: 'obs', releaseName: 'kps', loadTestsNamespace: 'load', alertmanager: true, grafanaIngress: true });
    // THEN
    expect(objs).toMatchSnapshot();
    const am = byName(objs, 'k6-platform-alertmanager').spec;
    expect(am.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'alertmanager', alertmanager: 'kps-alertmanager' } });
    expect(am.ingress[1]).toEqual({
      from: [{ podSelector: am.podSelector }],
      ports: [
        { port: 9094, protocol: 'TCP' },
        { port: 9094, protocol: 'UDP' },
      ],
    });
    expect(byName(objs, 'k6-platform-grafana').spec.ingress).toEqual([{ ports: [{ port: 3000, protocol: 'TCP' }] }]);
    expect(byName(objs, 'k6-platform-prometheus').spec.ingress[0].from[0].namespaceSelector).toEqual({
      matchLabels: { 'kubernetes.io/metadata.name': 'load' },
    });
    expect(validateManifests(objs as Manifest[])).toEqual([]);
  });
});

describe('DefaultDenyPolicy', () => {
  test('selects every pod and has no rules for the directions it closes', () => {
    // GIVEN
    const chart = new Chart(Testing.app(), 'd');
    new DefaultDenyPolicy(chart, 'Both', { namespace: 'k6' });
    new DefaultDenyPolicy(chart, 'In', { namespace: 'x', policyTypes: ['Ingress'], name: 'deny-in' });
    // THEN
    const [both, inOnly] = Testing.synth(chart) as Obj[];
    expect(both!.metadata).toMatchObject({ name: 'k6-platform-default-deny', namespace: 'k6' });
    expect(both!.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });
    expect(inOnly!.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'], ingress: [] });
  });
});

describe('NetworkPolicies of a whole environment, evaluated', () => {
  /** Every NetworkPolicy and pod template of an environment with both run forms. */
  function environment(input: PlatformConfigInput = {}) {
    const config = parsePlatformConfig({
      ...input,
      tests: [
        { name: 'sample', script: 'sample.js', targets: [{ cidr: '0.0.0.0/0', ports: [80, 443] }] },
        { name: 'op', script: 'sample.js', mode: 'operator', targets: [{ cidr: '0.0.0.0/0', ports: [443] }] },
        { name: 'nightly', script: 'sample.js', schedule: '0 2 * * *' },
      ],
    });
    const charts = buildPlatform(Testing.app(), {
      config,
      scriptsDir: SCRIPTS_DIR,
      dashboardsDir: path.join(SCRIPTS_DIR, '..', 'dashboards', 'generated'),
    });
    const objs = [charts.namespaces, charts.monitoring, charts.loadTests].flatMap((c) => c.toJson() as Obj[]);
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
    const sample = charts.runs.get('sample')!;
    const op = charts.runs.get('op')!;
    const job = objs.find((o) => o.kind === 'Job' && o.metadata.name === `${sample.runId}-runner`)!;
    // The stop Job `loadtest run` applies on Ctrl-C is not part of the chart: LoadTest builds it.
    const stopJob = sample.stopJobManifest() as Obj;
    const operatorStopJob = op.stopJobManifest() as Obj;
    const testRun = objs.find((o) => o.kind === 'TestRun')!;
    const cronJob = objs.find((o) => o.kind === 'CronJob')!;
    // What reaches the operator's runner pods: k6-operator v1.6.0 pkg/resources/jobs/runner.go starts from
    // newLabels(name) = {app: k6, k6_cr: <name>} (helpers.go), adds runner: "true", then every TestRun
    // spec.runner.metadata.labels entry whose key is not taken yet.
    const operatorRunnerLabels: Record<string, string> = { app: 'k6', k6_cr: op.runId, runner: 'true' };
    for (const [k, v] of Object.entries(testRun.spec.runner.metadata.labels as Record<string, string>)) operatorRunnerLabels[k] ??= v;
    const pods = {
      jobsRunner: { namespace: 'k6', labels: job.spec.template.metadata.labels },
      scheduledRunner: { namespace: 'k6', labels: cronJob.spec.jobTemplate.spec.template.metadata.labels },
      stopper: { namespace: 'k6', labels: stopJob.spec.template.metadata.labels },
      operatorStopper: { namespace: 'k6', labels: operatorStopJob.spec.template.metadata.labels },
      operatorStarter: { namespace: 'k6', labels: { app: 'k6', k6_cr: op.runId, ...testRun.spec.starter.metadata.labels } },
      operatorRunner: { namespace: 'k6', labels: operatorRunnerLabels },
      initializer: { namespace: 'k6', labels: { app: 'k6', k6_cr: op.runId, ...testRun.spec.initializer.metadata.labels } },
      // prometheus-operator's labels on the Prometheus StatefulSet pods
      prometheus: {
        namespace: 'monitoring',
        labels: {
          'app.kubernetes.io/name': 'prometheus',
          'app.kubernetes.io/instance': 'kube-prometheus-stack-prometheus',
          'app.kubernetes.io/managed-by': 'prometheus-operator',
          'operator.prometheus.io/name': 'kube-prometheus-stack-prometheus',
          'operator.prometheus.io/shard': '0',
          prometheus: 'kube-prometheus-stack-prometheus',
        },
      },
      grafana: { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': 'kube-prometheus-stack' } },
      kubeStateMetrics: {
        namespace: 'monitoring',
        labels: { 'app.kubernetes.io/name': 'kube-state-metrics', 'app.kubernetes.io/instance': 'kube-prometheus-stack' },
      },
      kubeDns: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
      elsewhere: { namespace: 'default', labels: { app: 'web' } },
      strangerInK6: { namespace: 'k6', labels: { app: 'debug' } },
    } satisfies Record<string, Endpoint>;
    return { policies, pods, objs };
  }

  test('only runners (both forms), Grafana and Prometheus itself reach Prometheus on 9090; a pod in another namespace does not', () => {
    // GIVEN
    const { policies, pods } = environment();
    // THEN
    expect(evaluate(policies, pods.jobsRunner, pods.prometheus, 9090)).toMatchObject({
      allowed: true,
      ingress: 'allowed by monitoring/k6-platform-prometheus',
    });
    expect(admitted(policies, pods.operatorRunner, pods.prometheus, 9090)).toBe(true);
    expect(admitted(policies, pods.grafana, pods.prometheus, 9090)).toBe(true);
    expect(admitted(policies, pods.prometheus, pods.prometheus, 9090)).toBe(true);
    expect(evaluate(policies, pods.elsewhere, pods.prometheus, 9090)).toEqual({ allowed: false, egress: 'not isolated', ingress: 'denied' });
    expect(admitted(policies, { namespace: 'default', labels: { 'app.kubernetes.io/component': 'runner' } }, pods.prometheus, 9090)).toBe(false);
    expect(admitted(policies, { ip: '203.0.113.5' }, pods.prometheus, 9090)).toBe(false);
    // AND the stop Job, the operator's starter and the initializer do not write metrics: closed both ways
    expect(admitted(policies, pods.stopper, pods.prometheus, 9090)).toBe(false);
    expect(admitted(policies, pods.operatorStarter, pods.prometheus, 9090)).toBe(false);
    expect(admitted(policies, pods.initializer, pods.prometheus, 9090)).toBe(false);
    // AND runners reach nothing else in the monitoring namespace
    expect(admitted(policies, pods.jobsRunner, pods.prometheus, 8080)).toBe(false);
    expect(admitted(policies, pods.jobsRunner, pods.grafana, 3000)).toBe(false);
  });

  test('scraping keeps working: Prometheus reaches the stack, node-exporter and kubelets (egress is open in monitoring)', () => {
    const { policies, pods } = environment();
    expect(admitted(policies, pods.prometheus, pods.prometheus, 8080)).toBe(true);
    expect(admitted(policies, pods.prometheus, pods.grafana, 3000)).toBe(true);
    expect(admitted(policies, pods.prometheus, pods.kubeStateMetrics, 8080)).toBe(true);
    // node-exporter (hostNetwork) and the kubelet answer on node addresses
    expect(admitted(policies, pods.prometheus, { ip: '172.18.0.2' }, 9100)).toBe(true);
    expect(admitted(policies, pods.prometheus, { ip: '172.18.0.2' }, 10250)).toBe(true);
    // the API server calls the operator's admission webhook from a node / control-plane address
    expect(
      admitted(
        policies,
        { ip: '172.18.0.1' },
        { namespace: 'monitoring', labels: { app: 'kube-prometheus-stack-operator', release: 'kube-prometheus-stack' } },
        10250,
      ),
    ).toBe(true);
    // Grafana without an ingress: not reachable from other namespaces (port-forward goes around NetworkPolicies)
    expect(admitted(policies, pods.elsewhere, pods.grafana, 3000)).toBe(false);
  });

  test('with a Grafana ingress, Grafana accepts any source on 3000 (ingress controllers run in many places)', () => {
    const { policies, pods } = environment({ monitoring: { grafana: { ingress: { enabled: true, host: 'grafana.example.com' } } } });
    expect(admitted(policies, { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } }, pods.grafana, 3000)).toBe(true);
    expect(admitted(policies, pods.elsewhere, pods.prometheus, 9090)).toBe(false);
  });

  test('runners reach DNS pods, Prometheus and public targets only: not the metadata service, the cluster ranges or other DNS servers', () => {
    const { policies, pods } = environment();
    for (const runner of [pods.jobsRunner, pods.operatorRunner]) {
      expect(admitted(policies, runner, pods.kubeDns, 53, 'UDP')).toBe(true);
      expect(admitted(policies, runner, { ip: '8.8.8.8' }, 53, 'UDP')).toBe(false);
      expect(admitted(policies, runner, { ip: '93.184.215.14' }, 443)).toBe(true);
      expect(admitted(policies, runner, { ip: '169.254.169.254' }, 80)).toBe(false);
      expect(admitted(policies, runner, { ip: '10.96.0.1' }, 443)).toBe(false);
      expect(admitted(policies, runner, { ip: '172.18.0.2' }, 443)).toBe(false);
      expect(admitted(policies, runner, { ip: '93.184.215.14' }, 22)).toBe(false);
      expect(admitted(policies, runner, pods.elsewhere, 80)).toBe(false);
    }
  });

  test('the load-test namespace is closed by default; what the platform declares there still works', () => {
    const { policies, pods } = environment();
    // an undeclared pod reaches nothing and nothing reaches it
    expect(evaluate(policies, pods.strangerInK6, { ip: '93.184.215.14' }, 443)).toMatchObject({ allowed: false, egress: 'denied' });
    expect(admitted(policies, pods.strangerInK6, pods.kubeDns, 53, 'UDP')).toBe(false);
    expect(admitted(policies, pods.strangerInK6, pods.jobsRunner, 6565)).toBe(false);
    expect(admitted(policies, pods.elsewhere, pods.strangerInK6, 80)).toBe(false);
    // the starter beside runner 0 resumes the other runners of its run; the stop Job stops them; the operator's
    // starter resumes its runners and the stop Job of the operator run stops them
    expect(admitted(policies, pods.jobsRunner, pods.jobsRunner, 6565)).toBe(true);
    expect(admitted(policies, pods.stopper, pods.jobsRunner, 6565)).toBe(true);
    expect(admitted(policies, pods.stopper, pods.kubeDns, 53, 'UDP')).toBe(true);
    expect(admitted(policies, pods.stopper, { ip: '93.184.215.14' }, 443)).toBe(false);
    expect(admitted(policies, pods.operatorStarter, pods.operatorRunner, 6565)).toBe(true);
    expect(admitted(policies, pods.operatorStopper, pods.operatorRunner, 6565)).toBe(true);
    // nobody stops another run's runners
    expect(admitted(policies, pods.stopper, pods.operatorRunner, 6565)).toBe(false);
    expect(admitted(policies, pods.operatorStopper, pods.jobsRunner, 6565)).toBe(false);
    expect(
      admitted(policies, { namespace: 'k6-operator-system', labels: { 'control-plane': 'controller-manager' } }, pods.operatorRunner, 6565),
    ).toBe(true);
    // scheduled runs: the starter beside runner 0 resumes the other runners of its run, and nobody else's
    expect(admitted(policies, pods.scheduledRunner, pods.scheduledRunner, 6565)).toBe(true);
    expect(admitted(policies, pods.scheduledRunner, pods.jobsRunner, 6565)).toBe(false);
    expect(admitted(policies, pods.jobsRunner, pods.scheduledRunner, 6565)).toBe(false);
    expect(admitted(policies, pods.scheduledRunner, pods.prometheus, 9090)).toBe(true);
    // the initializer fetches remote modules from the declared targets
    expect(admitted(policies, pods.initializer, { ip: '93.184.215.14' }, 443)).toBe(true);
    expect(admitted(policies, pods.elsewhere, pods.jobsRunner, 6565)).toBe(false);
  });

  test('with monitoring off, the monitoring namespace belongs to the existing stack: no policies there', () => {
    const { policies } = environment({
      monitoring: { enabled: false, remoteWriteUrl: 'http://prometheus-operated.observability.svc:9090/api/v1/write' },
    });
    expect(policies.filter((p) => p.metadata.namespace !== 'k6')).toEqual([]);
  });
});
