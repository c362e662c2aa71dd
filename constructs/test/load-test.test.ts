import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { k6DurationSeconds, LoadTest, RUNNER_UID, STARTER_UID, type LoadTestProps } from '../src/load-test';
import { parsePlatformConfig, testSchema, type TestConfig } from '../src/platform-config';
import { buildPlatform } from '../src/platform';
import { TestScripts } from '../src/test-scripts';
import { restrictedProfileViolations } from '../../test/support/pod-security';
import { validateManifests, type Manifest } from '../../test/support/schemas';

const SCRIPTS_DIR = path.resolve(__dirname, '..', '..', 'scripts');
const RW_URL = 'http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write';
const PROMETHEUS = { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } };

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function synth(
  test: Record<string, unknown>,
  extra: Partial<LoadTestProps> = {},
  entry = 'sample.js',
  scriptsDir = SCRIPTS_DIR,
): { objs: Obj[]; lt: LoadTest } {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'k6' });
  const scripts = new TestScripts(chart, 'Scripts', { testName: String(test.name), entry, scriptsDir });
  const lt = new LoadTest(chart, 'Run', {
    test: testSchema.parse({ script: entry, ...test }),
    scripts,
    remoteWriteUrl: RW_URL,
    prometheus: PROMETHEUS,
    ...extra,
  });
  return { objs: Testing.synth(chart) as Obj[], lt };
}

const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (o === undefined) throw new Error(`no ${kind} ${name} in ${objs.map((x) => `${x.kind}/${x.metadata?.name}`).join(', ')}`);
  return o;
};
const envOf = (c: Obj): Record<string, unknown> => Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));

/** Every synthesized object is schema-valid and every pod meets the restricted profile. */
function expectValidAndRestricted(objs: Obj[]): void {
  expect(validateManifests(objs as Manifest[])).toEqual([]);
  expect(restrictedProfileViolations(objs)).toEqual([]);
}

describe('LoadTest, mode "jobs"', () => {
  test('defaults: an Indexed Job of paused runners, a starter Job, a headless Service, policies', () => {
    // GIVEN the sample test with defaults (2 runners)
    const { objs, lt } = synth({ name: 'sample', duration: '1m', thresholds: { http_req_failed: ['rate<0.01'] } });

    // THEN the objects of the run, all labelled with the run id
    expect(objs).toMatchSnapshot();
    const runId = lt.runId;
    expect(runId).toMatch(/^sample-[0-9a-f]{6}$/);
    const run = objs.filter((o) => o.metadata.labels?.['k6.platform/run-id'] === runId);
    expect(run.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        `ConfigMap/${runId}-config`,
        `Job/${runId}-runner`,
        `Job/${runId}-starter`,
        `NetworkPolicy/${runId}-runner`,
        `NetworkPolicy/${runId}-starter`,
        `Service/${runId}`,
        `ServiceAccount/${runId}-runner`,
        `ServiceAccount/${runId}-starter`,
      ].sort(),
    );
    for (const o of run) expect(o.metadata.namespace).toBe('k6');
    expectValidAndRestricted(objs);

    // AND the runner Job: indexed, N = 2, never retried, deadline from start timeout + duration + grace
    const job = find(objs, 'Job', `${runId}-runner`);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2, backoffLimit: 0, ttlSecondsAfterFinished: 86400 });
    expect(job.spec.activeDeadlineSeconds).toBe(300 + 60 + 120);
    expect(job.spec.podFailurePolicy.rules).toEqual([
      { action: 'FailJob', onExitCodes: { containerName: 'k6', operator: 'In', values: [99] }, onPodConditions: [] },
      { action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [0] }, onPodConditions: [] },
      { action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ]);
    const pod = job.spec.template.spec;
    expect(pod).toMatchObject({
      restartPolicy: 'Never',
      subdomain: runId,
      automountServiceAccountToken: false,
      serviceAccountName: `${runId}-runner`,
    });
    expect(job.spec.template.metadata.labels).toEqual({
      'k6.platform/test': 'sample',
      'k6.platform/run-id': runId,
      'app.kubernetes.io/component': 'runner',
    });

    // AND the k6 container: args as a list, segment config per completion index, paused with the API on 6565
    const k6 = pod.containers[0];
    expect(k6.image).toBe('grafana/k6:1.7.1');
    expect(k6.command).toEqual(['k6']);
    expect(k6.args).toEqual([
      'run',
      '--quiet',
      '--paused',
      '--address=0.0.0.0:6565',
      '--execution-segment-sequence=0,1/2,1',
      '--config=/etc/k6-platform/runner-$(K6_PLATFORM_RUNNER_INDEX).json',
      '--out=experimental-prometheus-rw',
      '--tag',
      `testid=${runId}`,
      '--tag',
      'instance_id=$(K6_PLATFORM_RUNNER_INDEX)',
      '/scripts/sample.js',
    ]);
    expect(k6.readinessProbe.httpGet).toEqual({ path: '/v1/status', port: 6565 });
    expect(envOf(k6)).toEqual({
      K6_PLATFORM_RUNNER_INDEX: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
      K6_PLATFORM_RUN_ID: runId,
      K6_PROMETHEUS_RW_SERVER_URL: RW_URL,
      K6_PROMETHEUS_RW_PUSH_INTERVAL: '5s',
      K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM: 'true',
      K6_FEATURES: 'native-histograms',
      K6_PROMETHEUS_RW_STALE_MARKERS: 'true',
      K6_NO_USAGE_REPORT: 'true',
      K6_PLATFORM_RUNNERS: '2',
    });
    expect(k6.securityContext).toMatchObject({ runAsUser: RUNNER_UID, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(k6.volumeMounts).toEqual([
      { name: 'scripts', mountPath: '/scripts', readOnly: true },
      { name: 'run-config', mountPath: '/etc/k6-platform', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    expect(pod.volumes[0].configMap.items).toEqual([
      { key: 'sample.js', path: 'sample.js' },
      { key: 'lib__target.js', path: 'lib/target.js' },
    ]);

    // AND one k6 config per runner: its execution segment and the thresholds
    const cm = find(objs, 'ConfigMap', `${runId}-config`);
    expect(cm.immutable).toBe(true);
    expect(JSON.parse(cm.data['runner-0.json'])).toEqual({ executionSegment: '0:1/2', thresholds: { http_req_failed: ['rate<0.01'] } });
    expect(JSON.parse(cm.data['runner-1.json'])).toEqual({ executionSegment: '1/2:1', thresholds: { http_req_failed: ['rate<0.01'] } });
    expect(cm.data['start-runners.sh']).toContain('PATCH');

    // AND the headless Service publishes runner DNS names before readiness
    const svc = find(objs, 'Service', runId);
    expect(svc.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: job.spec.template.metadata.labels });

    // AND the starter: own ServiceAccount without token, runner URLs as args, the timeout in seconds
    const starter = find(objs, 'Job', `${runId}-starter`);
    expect(find(objs, 'ServiceAccount', `${runId}-starter`).automountServiceAccountToken).toBe(false);
    const sp = starter.spec.template.spec;
    expect(sp).toMatchObject({ serviceAccountName: `${runId}-starter`, automountServiceAccountToken: false, restartPolicy: 'Never' });
    expect(starter.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 360 });
    const sc = sp.containers[0];
    expect(sc.image).toBe('curlimages/curl:8.17.0');
    expect(sc.command).toEqual(['sh', '/opt/k6-platform/start-runners.sh']);
    expect(sc.args).toEqual([`http://${runId}-runner-0.${runId}.k6.svc:6565`, `http://${runId}-runner-1.${runId}.k6.svc:6565`]);
    expect(envOf(sc)).toEqual({ START_TIMEOUT_SECONDS: '300' });
    expect(sc.securityContext.runAsUser).toBe(STARTER_UID);
  });

  test('NetworkPolicies: runners reach DNS, Prometheus and targets; only the starter reaches runners', () => {
    // GIVEN a test with an external and an in-cluster target
    const { objs, lt } = synth({
      name: 'np',
      targets: [
        { cidr: '203.0.113.0/24', except: ['203.0.113.7/32'], ports: [443] },
        { namespace: 'shop', podLabels: { app: 'api' }, ports: [8080, 8081] },
      ],
    });
    const id = lt.runId;
    const labels = (c: string) => ({ 'k6.platform/test': 'np', 'k6.platform/run-id': id, 'app.kubernetes.io/component': c });

    // THEN the runner policy
    const runner = find(objs, 'NetworkPolicy', `${id}-runner`).spec;
    expect(runner.podSelector).toEqual({ matchLabels: labels('runner') });
    expect(runner.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(runner.ingress).toEqual([{ from: [{ podSelector: { matchLabels: labels('starter') } }], ports: [{ port: 6565, protocol: 'TCP' }] }]);
    expect(runner.egress).toEqual([
      {
        // DNS to the cluster DNS pods only (network-rules.ts), not to any address on port 53
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          },
        ],
        ports: [{ port: 9090, protocol: 'TCP' }],
      },
      { to: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.7/32'] } }], ports: [{ port: 443, protocol: 'TCP' }] },
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { app: 'api' } } }],
        ports: [
          { port: 8080, protocol: 'TCP' },
          { port: 8081, protocol: 'TCP' },
        ],
      },
    ]);
    // AND the starter policy: no ingress, egress to DNS and the run's runners only
    const starter = find(objs, 'NetworkPolicy', `${id}-starter`).spec;
    expect(starter.podSelector).toEqual({ matchLabels: labels('starter') });
    expect(starter.ingress).toEqual([]);
    expect(starter.egress[1]).toEqual({ to: [{ podSelector: { matchLabels: labels('runner') } }], ports: [{ port: 6565, protocol: 'TCP' }] });
    expect(starter.egress).toHaveLength(2);
    expect(validateManifests(objs as Manifest[])).toEqual([]);
  });

  test('NetworkPolicies: IP blocks leave out link-local, loopback and the cluster ranges a target does not name', () => {
    // GIVEN the sample's "anywhere" target, a target inside a cluster range, and an IPv6 target
    const { objs, lt } = synth({
      name: 'np',
      targets: [
        { cidr: '0.0.0.0/0', except: ['198.51.100.0/24'], ports: [80, 443] },
        { cidr: '10.20.0.0/16', ports: [8080] },
        { cidr: '::/0', ports: [443] },
      ],
    });
    // THEN
    const egress = find(objs, 'NetworkPolicy', `${lt.runId}-runner`).spec.egress as Obj[];
    const blocks = egress.filter((r) => r.to?.[0]?.ipBlock !== undefined).map((r) => r.to[0].ipBlock);
    expect(blocks).toEqual([
      {
        cidr: '0.0.0.0/0',
        // the caller's own exception first, then (sorted) private, shared, loopback and link-local (cloud metadata) ranges
        except: ['198.51.100.0/24', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'],
      },
      // a block inside a cluster range names it: reachable as declared
      { cidr: '10.20.0.0/16' },
      // per family: an IPv6 block gets the IPv6 ranges only (an `except` must lie inside its `cidr`)
      { cidr: '::/0', except: ['::1/128', 'fc00::/7', 'fe80::/10'] },
    ]);
  });

  test('NetworkPolicies: the cluster ranges and the DNS pods are configurable', () => {
    // GIVEN a cluster whose pods live in 172.20.0.0/16, with a public API server endpoint, and NodeLocal-free CoreDNS labels
    const { objs, lt } = synth(
      { name: 'np', targets: [{ cidr: '0.0.0.0/0', ports: [443] }] },
      { network: { clusterCidrs: ['172.20.0.0/16', '203.0.113.10/32'], dns: { namespace: 'dns', podLabels: { app: 'coredns' } } } },
    );
    // THEN
    const egress = find(objs, 'NetworkPolicy', `${lt.runId}-runner`).spec.egress as Obj[];
    expect(egress[0].to).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dns' } }, podSelector: { matchLabels: { app: 'coredns' } } },
    ]);
    expect(egress[2].to[0].ipBlock).toEqual({ cidr: '0.0.0.0/0', except: ['127.0.0.0/8', '169.254.0.0/16', '172.20.0.0/16', '203.0.113.10/32'] });
    expect(find(objs, 'NetworkPolicy', `${lt.runId}-starter`).spec.egress[0]).toEqual(egress[0]);
  });

  test('resources: runners get the documented defaults when nothing sets any; the starter always has requests and limits', () => {
    // GIVEN a LoadTest without runner defaults and without test resources
    const { objs, lt } = synth({ name: 'res' });
    // THEN
    const runner = find(objs, 'Job', `${lt.runId}-runner`).spec.template.spec.containers[0];
    expect(runner.resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } });
    const starter = find(objs, 'Job', `${lt.runId}-starter`).spec.template.spec.containers[0];
    expect(starter.resources).toEqual({ requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } });
  });

  test('all options: run id, placement, env, secrets, extra args, setup once, credentials, image', () => {
    // GIVEN every option set
    const { objs, lt } = synth(
      {
        name: 'full',
        runId: 'nightly-42',
        parallelism: 3,
        vus: 30,
        duration: '10m',
        gracePeriod: '30s',
        startTimeout: '90s',
        ttlSecondsAfterFinished: 600,
        resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { memory: '3Gi' } },
        nodeSelector: { pool: 'load' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'load', effect: 'NoSchedule' }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
            },
          },
        },
        onePerNode: true,
        imagePullSecrets: ['regcred'],
        env: { TARGET_URL: 'https://shop.example.com' },
        secretEnv: { API_TOKEN: { name: 'shop-token', key: 'token' } },
        envFrom: [{ configMap: 'shop-settings' }, { secret: 'shop-secrets', prefix: 'SHOP_' }],
        extraArgs: ['--no-connection-reuse', '--tag', 'team=shop'],
        setupOnce: true,
      },
      {
        image: 'registry.example.com/k6/k6-ext:1.7.1-abc',
        runner: {
          pushInterval: '10s',
          remoteWriteAuth: { type: 'basic', username: { name: 'rw', key: 'user' }, password: { name: 'rw', key: 'pass' } },
        },
      },
    );

    // THEN
    expect(objs).toMatchSnapshot();
    expect(lt.runId).toBe('nightly-42');
    expectValidAndRestricted(objs);
    const job = find(objs, 'Job', 'nightly-42-runner');
    expect(job.spec).toMatchObject({ completions: 3, parallelism: 3, activeDeadlineSeconds: 90 + 600 + 30, ttlSecondsAfterFinished: 600 });
    const pod = job.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ pool: 'load' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'load', effect: 'NoSchedule' }]);
    expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key).toBe('zone');
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        labelSelector: { matchLabels: { 'k6.platform/test': 'full', 'k6.platform/run-id': 'nightly-42', 'app.kubernetes.io/component': 'runner' } },
        topologyKey: 'kubernetes.io/hostname',
      },
    ]);
    const k6 = pod.containers[0];
    expect(k6.image).toBe('registry.example.com/k6/k6-ext:1.7.1-abc');
    expect(k6.resources).toEqual({ requests: { cpu: '2', memory: '2Gi' }, limits: { memory: '3Gi' } });
    expect(k6.args).toContain('--execution-segment-sequence=0,1/3,2/3,1');
    expect(k6.args.slice(-4)).toEqual(['--no-connection-reuse', '--tag', 'team=shop', '/scripts/sample.js']);
    const env = envOf(k6);
    expect(env).toMatchObject({
      K6_PROMETHEUS_RW_PUSH_INTERVAL: '10s',
      K6_PROMETHEUS_RW_USERNAME: { secretKeyRef: { name: 'rw', key: 'user' } },
      K6_PROMETHEUS_RW_PASSWORD: { secretKeyRef: { name: 'rw', key: 'pass' } },
      TARGET_URL: 'https://shop.example.com',
      API_TOKEN: { secretKeyRef: { name: 'shop-token', key: 'token' } },
    });
    expect(k6.envFrom).toEqual([{ configMapRef: { name: 'shop-settings' } }, { prefix: 'SHOP_', secretRef: { name: 'shop-secrets' } }]);
    // AND setup()/teardown() run on runner 0 only
    const cm = find(objs, 'ConfigMap', 'nightly-42-config');
    expect(JSON.parse(cm.data['runner-0.json'])).toEqual({ executionSegment: '0:1/3' });
    expect(JSON.parse(cm.data['runner-1.json'])).toEqual({ executionSegment: '1/3:2/3', noSetup: true, noTeardown: true });
    expect(JSON.parse(cm.data['runner-2.json'])).toEqual({ executionSegment: '2/3:1', noSetup: true, noTeardown: true });
    // AND the starter resumes three runners
    expect(find(objs, 'Job', 'nightly-42-starter').spec.template.spec.containers[0].args).toHaveLength(3);
    expect(find(objs, 'Job', 'nightly-42-starter').spec.template.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
  });

  test('classic trends and bearer credentials: no native-histogram env, the token from its Secret', () => {
    // GIVEN runner defaults with native histograms off and a bearer token
    const { objs, lt } = synth(
      { name: 'classic' },
      { runner: { nativeHistograms: false, remoteWriteAuth: { type: 'bearer', token: { name: 'rw', key: 'token' } } } },
    );
    // WHEN
    const env = envOf(find(objs, 'Job', `${lt.runId}-runner`).spec.template.spec.containers[0]);
    // THEN
    expect(env.K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM).toBe('false');
    expect(env).not.toHaveProperty('K6_FEATURES');
    // the stats the classic dashboard and the verdict read (k6 alone sends only p(99))
    expect(env.K6_PROMETHEUS_RW_TREND_STATS).toBe('p(90),p(95),p(99),med,min,max,avg');
    expect(env.K6_PROMETHEUS_RW_BEARER_TOKEN).toEqual({ secretKeyRef: { name: 'rw', key: 'token' } });
    expect(env).not.toHaveProperty('K6_PROMETHEUS_RW_USERNAME');
  });

  test('the default run id changes with the script or the options, and is stable otherwise', () => {
    // GIVEN / WHEN
    const a = synth({ name: 'sample' }).lt.runId;
    const b = synth({ name: 'sample' }).lt.runId;
    const c = synth({ name: 'sample', parallelism: 3 }).lt.runId;
    const d = synth({ name: '9lives' }).lt.runId;
    // THEN
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(d).toMatch(/^r9lives-[0-9a-f]{6}$/);
  });

  test("a schedule makes a CronJob whose Job name is each run's testid, with the starter beside runner 0", () => {
    // GIVEN a nightly test
    const { objs, lt } = synth({ name: 'nightly', runId: 'nightly', schedule: '0 2 * * *', timeZone: 'Europe/Berlin', duration: '5m' });

    // THEN a CronJob that never overlaps runs, and no standalone Jobs
    expect(objs).toMatchSnapshot();
    expectValidAndRestricted(objs);
    expect(objs.filter((o) => o.kind === 'Job')).toEqual([]);
    expect(lt.cronJob).toBeDefined();
    const cj = find(objs, 'CronJob', 'nightly');
    expect(cj.spec).toMatchObject({ schedule: '0 2 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 300 });
    const spec = cj.spec.jobTemplate.spec;
    expect(spec).toMatchObject({ completionMode: 'Indexed', completions: 2, backoffLimit: 0, activeDeadlineSeconds: 300 + 300 + 120 });
    const [k6, starter] = spec.template.spec.containers;
    // AND the testid is the Job's name (which carries the scheduled time)
    expect(k6.args).toContain('testid=$(K6_PLATFORM_RUN_ID)');
    expect(envOf(k6).K6_PLATFORM_RUN_ID).toEqual({ fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } });
    // AND the starter derives the runner URLs from the Job name and only acts in pod 0
    expect(starter.args).toEqual(['http://$(K6_PLATFORM_JOB_NAME)-0.nightly.k6.svc:6565', 'http://$(K6_PLATFORM_JOB_NAME)-1.nightly.k6.svc:6565']);
    expect(envOf(starter)).toEqual({
      K6_PLATFORM_JOB_NAME: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } },
      RUNNER_INDEX: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
      START_TIMEOUT_SECONDS: '300',
    });
    // AND runners accept API calls from runners of the same test run (the starter lives in runner 0)
    const np = find(objs, 'NetworkPolicy', 'nightly-runner').spec;
    expect(np.ingress[0].from).toEqual([{ podSelector: np.podSelector }]);
    expect(np.egress.at(-1)).toEqual({ to: [{ podSelector: np.podSelector }], ports: [{ port: 6565, protocol: 'TCP' }] });
    expect(objs.filter((o) => o.kind === 'NetworkPolicy')).toHaveLength(1);
  });
});

describe('LoadTest, mode "operator"', () => {
  test('a TestRun with args, runner/starter/initializer pods and script mounted with its folders', () => {
    // GIVEN the sample test (it imports ./lib/target.js) in operator mode
    const { objs, lt } = synth({
      name: 'sample',
      mode: 'operator',
      parallelism: 4,
      thresholds: { checks: ['rate>0.99'] },
      operator: { separate: true, cleanup: true },
      nodeSelector: { pool: 'load' },
      resources: { requests: { cpu: '1' }, limits: { memory: '1Gi' } },
      secretEnv: { API_TOKEN: { name: 'tok', key: 'token' } },
    });

    // THEN
    expect(objs).toMatchSnapshot();
    expectValidAndRestricted(objs);
    expect(objs.filter((o) => o.kind === 'Job')).toEqual([]);
    const tr = find(objs, 'TestRun', lt.runId);
    expect(tr.apiVersion).toBe('k6.io/v1alpha1');
    expect(tr.spec).toMatchObject({ parallelism: 4, separate: true, cleanup: 'post', script: { localFile: '/scripts/sample.js' } });
    expect(tr.spec.args).toEqual([
      '--quiet',
      '--config=/etc/k6-platform/runner.json',
      '--out=experimental-prometheus-rw',
      '--tag',
      `testid=${lt.runId}`,
    ]);
    const runner = tr.spec.runner;
    expect(runner).toMatchObject({ image: 'grafana/k6:1.7.1', automountServiceAccountToken: 'false', nodeSelector: { pool: 'load' } });
    expect(runner.resources).toEqual({ requests: { cpu: '1' }, limits: { memory: '1Gi' } });
    expect(runner.env).toContainEqual({ name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'tok', key: 'token' } } });
    expect(runner.volumes.find((v: Obj) => v.name === 'scripts').configMap.items).toContainEqual({ key: 'lib__target.js', path: 'lib/target.js' });
    expect(runner.volumes.find((v: Obj) => v.name === 'tmp')).toEqual({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
    expect(tr.spec.initializer.metadata.labels['app.kubernetes.io/component']).toBe('initializer');
    expect(tr.spec.starter).toMatchObject({ image: 'curlimages/curl:8.17.0', automountServiceAccountToken: 'false' });
    // AND every pod the operator makes has requests and limits: the starter's through spec.starter.resources (the CRD's
    // field; k6-operator v1.6.0 pkg/resources/jobs/starter.go falls back to 50m/2Mi otherwise), the initializer sized like a runner
    expect(tr.spec.starter.resources).toEqual({ requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } });
    expect(tr.spec.initializer.resources).toEqual({ requests: { cpu: '1' }, limits: { memory: '1Gi' } });
    expect(JSON.parse(find(objs, 'ConfigMap', `${lt.runId}-config`).data['runner.json'])).toEqual({ thresholds: { checks: ['rate>0.99'] } });
    // AND runners accept API calls from the starter and the operator's namespace only
    const np = find(objs, 'NetworkPolicy', `${lt.runId}-runner`).spec;
    expect(np.ingress[0].from[1]).toEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'k6-operator-system' } } });
  });

  test('a flat script bundle is passed as the TestRun script ConfigMap (name + file)', () => {
    // GIVEN a script without local imports
    const dir = mkdtempSync(path.join(tmpdir(), 'k6-flat-'));
    try {
      writeFileSync(path.join(dir, 'flat.js'), "import http from 'k6/http';\nexport default function () { http.get('https://example.com'); }\n");
      mkdirSync(path.join(dir, 'unused'));
      const { objs, lt } = synth({ name: 'flat', mode: 'operator' }, {}, 'flat.js', dir);
      // THEN
      const tr = find(objs, 'TestRun', lt.runId);
      expect(tr.spec.script).toEqual({
        configMap: { name: objs.find((o) => o.metadata.name.startsWith('k6-flat-'))!.metadata.name, file: 'flat.js' },
      });
      expect(tr.spec.runner.volumes.map((v: Obj) => v.name)).toEqual(['run-config', 'tmp']);
      expect(tr.spec.cleanup).toBeUndefined();
      expectValidAndRestricted(objs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('LoadTest bad input', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['parallelism < 1', { parallelism: 0 }, "'tests[0].parallelism' must be at least 1, got 0"],
    ['parallelism not an integer', { parallelism: 1.5 }, "'tests[0].parallelism' must be an integer, got 1.5"],
    ['vus < parallelism', { parallelism: 4, vus: 3 }, "'tests[0].vus' must be at least parallelism (4) so that every runner gets a VU, got 3"],
    ['invalid duration', { duration: '10 minutes' }, '\'tests[0].duration\' must be a k6 duration such as "30s", "1m30s" or "2h", got "10 minutes"'],
    ['invalid grace period', { gracePeriod: '1d' }, '\'tests[0].gracePeriod\' must be a k6 duration such as "30s", "1m30s" or "2h", got "1d"'],
    [
      'run id not DNS-safe',
      { runId: 'Nightly_Run' },
      '\'tests[0].runId\' must be a DNS label starting with a letter: lower-case letters, digits and "-", got "Nightly_Run"',
    ],
    [
      'run id too long once suffixed',
      { runId: `r${'x'.repeat(54)}`, parallelism: 10 },
      `'tests[0].runId' must be at most 54 characters here: names derived from it add up to 9 more and must fit in 63, got "r${'x'.repeat(54)}"`,
    ],
    [
      'scheduled run id too long for the CronJob',
      { runId: `r${'x'.repeat(52)}`, schedule: '@daily' },
      `'tests[0].runId' must be at most 52 characters here: names derived from it add up to 11 more and must fit in 63, got "r${'x'.repeat(52)}"`,
    ],
    [
      'resource quantity',
      { resources: { limits: { memory: '2 GB' } } },
      '\'tests[0].resources.limits.memory\' must be a Kubernetes quantity such as "500m", "1", "512Mi" or "2Gi", got "2 GB"',
    ],
    [
      'cron expression',
      { schedule: '0 25 * * *' },
      '\'tests[0].schedule\' must be a cron expression with 5 fields such as "0 2 * * *", or a macro such as "@daily", got "0 25 * * *"',
    ],
    [
      'cron with seconds',
      { schedule: '0 0 2 * * *' },
      '\'tests[0].schedule\' must be a cron expression with 5 fields such as "0 2 * * *", or a macro such as "@daily", got "0 0 2 * * *"',
    ],
    [
      'target CIDR',
      { targets: [{ cidr: '10.0.0.300/8', ports: [80] }] },
      '\'tests[0].targets[0].cidr\' must be a CIDR such as "203.0.113.0/24" or "2001:db8::/32", got "10.0.0.300/8"',
    ],
    [
      'target without cidr/namespace',
      { targets: [{ ports: [80] }] },
      '\'tests[0].targets[0]\' must set exactly one of "cidr" or "namespace", got {"ports":[80],"protocol":"TCP"}',
    ],
    [
      'target port',
      { targets: [{ cidr: '10.0.0.0/8', ports: [0] }] },
      "'tests[0].targets[0].ports[0]' must be a port number between 1 and 65535, got 0",
    ],
    [
      'target in link-local (cloud metadata)',
      { targets: [{ cidr: '169.254.169.254/32', ports: [80] }] },
      '\'tests[0].targets[0].cidr\' must not lie inside 169.254.0.0/16 (link-local and loopback addresses, among them the cloud metadata service 169.254.169.254, are never reachable), got "169.254.169.254/32"',
    ],
    [
      'secret ref without key',
      { secretEnv: { TOKEN: { name: 'tok' } } },
      "'tests[0].secretEnv.TOKEN.key' must name the key inside the Secret, got nothing",
    ],
    [
      'reserved flag',
      { extraArgs: ['--paused'] },
      '\'tests[0].extraArgs[0]\' must not set a flag the platform sets itself (--execution-segment, --execution-segment-sequence, --paused, -p, --address, -a, --config, -c), got "--paused"',
    ],
    [
      'schedule with operator',
      { mode: 'operator', schedule: '@daily' },
      '\'tests[0].schedule\' must not be set with mode "operator" (schedules need mode "jobs"), got "@daily"',
    ],
  ];

  test.each(cases)('%s: the platform config names the field', (_, bad, message) => {
    // GIVEN / WHEN / THEN
    expect(() => parsePlatformConfig({ tests: [{ name: 't', script: 'sample.js', ...bad }] })).toThrow(
      `Invalid platform config (1 problem):\n  - ${message}`,
    );
  });

  test.each(cases)('%s: the construct names the field too', (_, bad, message) => {
    // GIVEN a TestConfig built by hand (not parsed)
    const chart = Testing.chart();
    const scripts = new TestScripts(chart, 'S', { testName: 't', entry: 'sample.js', scriptsDir: SCRIPTS_DIR });
    const test = { ...testSchema.parse({ name: 't', script: 'sample.js' }), ...bad } as TestConfig;
    // WHEN / THEN
    expect(() => new LoadTest(chart, 'Run', { test, scripts, remoteWriteUrl: RW_URL })).toThrow(`LoadTest: ${message.replace("'tests[0].", "'")}`);
  });

  test('k6DurationSeconds converts k6 durations and rejects others', () => {
    // GIVEN / WHEN / THEN
    expect(k6DurationSeconds('1m30s')).toBe(90);
    expect(k6DurationSeconds('1h')).toBe(3600);
    expect(k6DurationSeconds('1.5m')).toBe(90);
    expect(k6DurationSeconds('250ms')).toBe(1);
    expect(() => k6DurationSeconds('1d')).toThrow('LoadTest: "1d" is not a k6 duration such as "30s", "1m30s" or "2h"');
  });
});

describe('LoadTest in the platform (buildPlatform)', () => {
  test('the default environment runs the sample test on 2 runners (form A); a test with mode "operator" gets a TestRun (form B)', () => {
    // GIVEN the default config plus an operator-mode test (as Pulumi.dev.yaml may add)
    const config = parsePlatformConfig({
      tests: [
        { name: 'sample', script: 'sample.js', duration: '1m', vus: 200, targets: [{ cidr: '0.0.0.0/0', ports: [80, 443] }] },
        {
          name: 'smoke-operator',
          script: 'smoke.js',
          mode: 'operator',
          parallelism: 2,
          duration: '30s',
          targets: [{ cidr: '0.0.0.0/0', ports: [443] }],
        },
      ],
    });
    const defaults = parsePlatformConfig({});
    expect(defaults.tests).toEqual([config.tests[0]]);
    const app = Testing.app();
    // WHEN
    const charts = buildPlatform(app, { config, scriptsDir: SCRIPTS_DIR });
    const objs = charts.loadTests.toJson() as Obj[];

    // THEN form A for the sample test: 2 indexed runners writing to the in-cluster Prometheus, a starter
    const sample = charts.runs.get('sample')!;
    const job = find(objs, 'Job', `${sample.runId}-runner`);
    expect(job.metadata.namespace).toBe('k6');
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2, activeDeadlineSeconds: 300 + 60 + 120 });
    expect(envOf(job.spec.template.spec.containers[0]).K6_PROMETHEUS_RW_SERVER_URL).toBe(
      'http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write',
    );
    expect(job.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } });
    expect(find(objs, 'Job', `${sample.runId}-starter`).spec.template.spec.containers[0].args).toHaveLength(2);
    expect(find(objs, 'NetworkPolicy', `${sample.runId}-runner`).spec.egress[1].to[0].namespaceSelector).toEqual({
      matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
    });
    // AND form B for the operator test
    const op = charts.runs.get('smoke-operator')!;
    expect(find(objs, 'TestRun', op.runId).spec.script).toEqual({ localFile: '/scripts/smoke.js' });
    // AND everything in the load-test chart is schema-valid and restricted-profile clean
    expectValidAndRestricted(objs);
  });
});
