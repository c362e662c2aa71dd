import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { k6DurationSeconds, LoadTest, RUNNER_UID, STARTER_UID, type LoadTestProps } from '../src/load-test/load-test';
import { parsePlatformConfig, testSchema, type TestConfig, type TestInput } from '../src/config/platform-config';
import { buildPlatform } from '../src/platform/platform';
import { TestScripts } from '../src/load-test/test-scripts';
import { restrictedProfileViolations } from '../../test/support/pod-security';
import { validateManifests, type Manifest } from '../../test/support/schemas';
import { K6_ARCHIVE_FLAGS, K6_RUN_FLAGS, operatorArchiveCommand, operatorParseCli, operatorRunnerCommand, parseArgv } from './fixtures/k6-cli';

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
  test('defaults: an Indexed Job of paused runners with the starter beside runner 0, a headless Service, policies', () => {
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
        `NetworkPolicy/${runId}-runner`,
        `NetworkPolicy/${runId}-stopper`,
        `Service/${runId}`,
        `ServiceAccount/${runId}-runner`,
      ].sort(),
    );
    for (const o of run) expect(o.metadata.namespace).toBe('k6');
    expectValidAndRestricted(objs);

    // AND the runner Job: indexed, N = 2, never retried, deadline from start timeout + duration + grace
    const job = find(objs, 'Job', `${runId}-runner`);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2, backoffLimit: 0, ttlSecondsAfterFinished: 86400 });
    expect(job.spec.activeDeadlineSeconds).toBe(300 + 60 + 120);
    // (runners never exit 99: no rule treats it apart; real failures, any container, and disruptions fail the run)
    expect(job.spec.podFailurePolicy.rules).toEqual([
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
    // (--no-thresholds: k6 v1.7.1 internal/cmd/runtime_options.go; a runner sees one segment and must not judge it)
    expect(k6.args).toEqual([
      'run',
      '--quiet',
      '--no-thresholds',
      '--paused',
      '--address=0.0.0.0:6565',
      '--execution-segment-sequence=0,1/2,1',
      '--config=/etc/k6-platform/runner-$(K6_PLATFORM_RUNNER_INDEX).json',
      '--out',
      'experimental-prometheus-rw',
      '--tag',
      `testid=${runId}`,
      '--tag',
      'test=sample',
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

    // AND one k6 config per runner: its execution segment, no thresholds (the platform judges them over all runners)
    const cm = find(objs, 'ConfigMap', `${runId}-config`);
    expect(cm.immutable).toBe(true);
    expect(JSON.parse(cm.data['runner-0.json'])).toEqual({ executionSegment: '0:1/2' });
    expect(JSON.parse(cm.data['runner-1.json'])).toEqual({ executionSegment: '1/2:1' });
    expect(cm.data['start-runners.sh']).toContain('PATCH');

    // AND the headless Service publishes runner DNS names before readiness
    const svc = find(objs, 'Service', runId);
    expect(svc.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: job.spec.template.metadata.labels });

    // AND the starter beside runner 0: runner 0 on loopback, the others by DNS name under the Job's name, the timeout
    // in seconds, ready (for the CLI) once it has resumed everyone; it acts only in pod 0
    expect(pod.containers).toHaveLength(2);
    const sc = pod.containers[1];
    expect(sc.name).toBe('starter');
    expect(sc.image).toBe('curlimages/curl:8.17.0');
    expect(sc.command).toEqual(['sh', '/opt/k6-platform/start-runners.sh']);
    expect(sc.args).toEqual(['http://127.0.0.1:6565', `http://$(K6_PLATFORM_JOB_NAME)-1.${runId}.k6.svc:6565`]);
    expect(envOf(sc)).toEqual({
      K6_PLATFORM_JOB_NAME: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } },
      RUNNER_INDEX: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
      START_TIMEOUT_SECONDS: '300',
      SETUP_ONCE: 'false',
      STATE_DIR: '/tmp',
    });
    expect(sc.readinessProbe).toEqual({ exec: { command: ['cat', '/tmp/started'] }, periodSeconds: 2, failureThreshold: 1 });
    expect(sc.resources).toEqual({ requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } });
    expect(sc.securityContext.runAsUser).toBe(RUNNER_UID);
    expect(pod.shareProcessNamespace).toBeUndefined();

    // AND the stop Job `loadtest run` applies on Ctrl-C: not in the chart, the stop script against every runner by name
    const stop = lt.stopJobManifest() as Obj;
    expect(objs.some((o) => o.metadata.name === `${runId}-stop`)).toBe(false);
    expect(stop.metadata).toEqual({
      name: `${runId}-stop`,
      namespace: 'k6',
      labels: { 'k6.platform/test': 'sample', 'k6.platform/run-id': runId, 'app.kubernetes.io/component': 'stopper' },
    });
    expect(stop.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 120, ttlSecondsAfterFinished: 600 });
    const stopPod = stop.spec.template.spec;
    expect(stopPod).toMatchObject({ serviceAccountName: `${runId}-runner`, automountServiceAccountToken: false, restartPolicy: 'Never' });
    expect(stopPod.containers[0].args).toEqual([
      '--stop',
      `http://${runId}-runner-0.${runId}.k6.svc:6565`,
      `http://${runId}-runner-1.${runId}.k6.svc:6565`,
    ]);
    expect(stopPod.containers[0].securityContext.runAsUser).toBe(STARTER_UID);
    expectValidAndRestricted([stop]);
  });

  test('NetworkPolicies: runners reach DNS, Prometheus, targets and each other; only runners and the stop Job reach runners', () => {
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
    expect(runner.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: labels('runner') } }, { podSelector: { matchLabels: labels('stopper') } }],
        ports: [{ port: 6565, protocol: 'TCP' }],
      },
    ]);
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
      // the starter beside runner 0 calls the other runners' REST API
      { to: [{ podSelector: { matchLabels: labels('runner') } }], ports: [{ port: 6565, protocol: 'TCP' }] },
    ]);
    // AND the stop Job's policy: no ingress, egress to DNS and the run's runners only
    const stopper = find(objs, 'NetworkPolicy', `${id}-stopper`).spec;
    expect(stopper.podSelector).toEqual({ matchLabels: labels('stopper') });
    expect(stopper.ingress).toEqual([]);
    expect(stopper.egress[1]).toEqual({ to: [{ podSelector: { matchLabels: labels('runner') } }], ports: [{ port: 6565, protocol: 'TCP' }] });
    expect(stopper.egress).toHaveLength(2);
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
    expect(find(objs, 'NetworkPolicy', `${lt.runId}-stopper`).spec.egress[0]).toEqual(egress[0]);
  });

  test('resources: runners get the documented defaults when nothing sets any; the starter and the stop Job always have requests and limits', () => {
    // GIVEN a LoadTest without runner defaults and without test resources
    const { objs, lt } = synth({ name: 'res' });
    // THEN
    const [runner, starter] = find(objs, 'Job', `${lt.runId}-runner`).spec.template.spec.containers;
    expect(runner.resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } });
    const small = { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } };
    expect(starter.resources).toEqual(small);
    expect((lt.stopJobManifest() as Obj).spec.template.spec.containers[0].resources).toEqual(small);
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
    // AND setup once: no runner runs setup()/teardown() itself; runner 0 lingers for the one teardown() (k6 v1.7.1
    // internal/cmd/config.go reads `linger` from the config file); the starter runs both through the REST API and
    // ends runner 0 with a signal, so the pod shares one process namespace and the starter runs as k6's uid
    const cm = find(objs, 'ConfigMap', 'nightly-42-config');
    expect(JSON.parse(cm.data['runner-0.json'])).toEqual({ executionSegment: '0:1/3', noSetup: true, noTeardown: true, linger: true });
    expect(JSON.parse(cm.data['runner-1.json'])).toEqual({ executionSegment: '1/3:2/3', noSetup: true, noTeardown: true });
    expect(JSON.parse(cm.data['runner-2.json'])).toEqual({ executionSegment: '2/3:1', noSetup: true, noTeardown: true });
    expect(pod.shareProcessNamespace).toBe(true);
    const starter = pod.containers[1];
    expect(starter.args).toHaveLength(3);
    expect(envOf(starter).SETUP_ONCE).toBe('true');
    expect(starter.securityContext.runAsUser).toBe(k6.securityContext.runAsUser);
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
    expect(env.K6_PROMETHEUS_RW_TREND_STATS).toBe('p(90),p(95),p(99),med,min,max');
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
    // AND how the run is judged afterwards (validity limits, regression rules) changes no object, so not the run id
    const judged = synth({
      name: 'sample',
      validity: { maxDroppedIterations: 0.05 },
      regression: { http_req_duration: ['p(95) < +10%'] },
    }).lt.runId;
    expect(judged).toBe(a);
  });

  test("binary files (binaryData keys) are mounted like text files: open('./fixtures/logo.png', 'b') finds its bytes", () => {
    // GIVEN a script that uploads a binary fixture (not valid UTF-8, so the bundle keeps it in binaryData)
    const dir = mkdtempSync(path.join(tmpdir(), 'k6-binary-'));
    try {
      mkdirSync(path.join(dir, 'fixtures'));
      writeFileSync(path.join(dir, 'upload.js'), "const logo = open('./fixtures/logo.png', 'b');\nexport default function () {}\n");
      writeFileSync(path.join(dir, 'fixtures', 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]));
      // WHEN
      const { objs, lt } = synth({ name: 'upload' }, {}, 'upload.js', dir);
      // THEN the runner's scripts volume maps the binaryData key back to its path under /scripts
      const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('k6-upload-'))!;
      expect(Object.keys(cm.binaryData)).toEqual(['fixtures__logo.png']);
      const volumes = find(objs, 'Job', `${lt.runId}-runner`).spec.template.spec.volumes as Obj[];
      expect(volumes.find((v) => v.name === 'scripts')!.configMap).toEqual({
        name: cm.metadata.name,
        items: [
          { key: 'upload.js', path: 'upload.js' },
          { key: 'fixtures__logo.png', path: 'fixtures/logo.png' },
        ],
      });
      expectValidAndRestricted(objs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
    expect(starter.args).toEqual(['http://127.0.0.1:6565', 'http://$(K6_PLATFORM_JOB_NAME)-1.nightly.k6.svc:6565']);
    expect(envOf(starter)).toMatchObject({
      K6_PLATFORM_JOB_NAME: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } },
      RUNNER_INDEX: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
      START_TIMEOUT_SECONDS: '300',
    });
    // AND a scheduled run has no stop Job (nobody is there to press Ctrl-C)
    expect(() => lt.stopJobManifest()).toThrow("LoadTest: test 'nightly' has no stop Job (only unscheduled runs have one)");
    // AND runners accept API calls from runners of the same test run (the starter lives in runner 0)
    const np = find(objs, 'NetworkPolicy', 'nightly-runner').spec;
    expect(np.ingress[0].from[0]).toEqual({ podSelector: np.podSelector });
    expect(np.egress.at(-1)).toEqual({ to: [{ podSelector: np.podSelector }], ports: [{ port: 6565, protocol: 'TCP' }] });
    expect(objs.filter((o) => o.kind === 'NetworkPolicy')).toHaveLength(1);
  });
});

describe("LoadTest: which thresholds judge a run, and the script's own tags", () => {
  /** A scripts folder with one entry script. */
  function withScript(source: string, fn: (dir: string) => void): void {
    const dir = mkdtempSync(path.join(tmpdir(), 'k6-options-'));
    try {
      writeFileSync(path.join(dir, 'main.js'), source);
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test("the smoke script's own thresholds judge its runs although its config declares none, and no runner judges them", () => {
    // GIVEN scripts/smoke.js, which exports options.thresholds, and a test config without thresholds
    const { objs, lt } = synth({ name: 'smoke' }, {}, 'smoke.js');
    // THEN the run is judged by the script's thresholds (before, they reached only each runner's own judgement,
    // which --no-thresholds now switches off, so they would have been lost)
    expect(lt.thresholds).toEqual({ http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] });
    const k6 = find(objs, 'Job', `${lt.runId}-runner`).spec.template.spec.containers[0];
    expect(k6.args).toContain('--no-thresholds');
  });

  test('config and script thresholds on the same metric are both judged (k6 would keep only one map: lib/options.go Apply)', () => {
    withScript(
      "export const options = { thresholds: { http_req_duration: ['p(95)<300'], checks: [{ threshold: 'rate>0.9', abortOnFail: true }] } };\nexport default function () {}\n",
      (dir) => {
        // GIVEN / WHEN
        const { lt } = synth({ name: 'both', thresholds: { http_req_duration: ['p(99)<800'], http_req_failed: ['rate<0.01'] } }, {}, 'main.js', dir);
        // THEN
        expect(lt.thresholds).toEqual({
          http_req_duration: ['p(99)<800', 'p(95)<300'],
          http_req_failed: ['rate<0.01'],
          checks: [{ threshold: 'rate>0.9', abortOnFail: true }],
        });
      },
    );
  });

  test("the script's options.tags survive the run tags: repeated as --tag flags in front of them", () => {
    // k6 v1.7.1 internal/cmd/options.go: --tag is a StringArray parsed into RunTags; lib/options.go Apply replaces
    // RunTags wholesale when the CLI sets any, so without this the script's team tag would be gone from every sample.
    withScript("export const options = { tags: { team: 'shop', cost: '$(HOME)', empty: '' } };\nexport default function () {}\n", (dir) => {
      // GIVEN / WHEN
      const { objs, lt } = synth({ name: 'tagged' }, {}, 'main.js', dir);
      // THEN
      const args = find(objs, 'Job', `${lt.runId}-runner`).spec.template.spec.containers[0].args as string[];
      const at = args.indexOf('--tag');
      expect(args.slice(at, at + 10)).toEqual([
        '--tag',
        'team=shop',
        '--tag',
        // the kubelet expands $(VAR) in args: a literal $ is written $$
        'cost=$$(HOME)',
        '--tag',
        `testid=${lt.runId}`,
        '--tag',
        'test=tagged',
        '--tag',
        'instance_id=$(K6_PLATFORM_RUNNER_INDEX)',
      ]);
      // (an empty tag is left out: k6 refuses "--tag empty=" and drops empty tags from samples anyway)
      expect(args.some((a) => a.startsWith('empty='))).toBe(false);
    });
  });

  test('a script whose thresholds cannot be read statically, or that sets a run tag, is refused with file and line', () => {
    withScript(
      "const limit = __ENV.LIMIT;\nexport const options = {\n  thresholds: { http_req_duration: [`p(95)<${limit}`] },\n  tags: { testid: 'mine' },\n};\nexport default function () {}\n",
      (dir) => {
        // GIVEN / WHEN / THEN
        expect(() => synth({ name: 'computed' }, {}, 'main.js', dir)).toThrow(
          /^LoadTest: test 'computed': main\.js:1: options\.thresholds.*read from __ENV.*cannot be read statically.*\nLoadTest: test 'computed': main\.js:4: options\.tags\.testid is reserved/s,
        );
      },
    );
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
      '--config=/etc/k6-platform/runner.json',
      '--no-thresholds',
      '--out',
      'experimental-prometheus-rw',
      '--tag',
      `testid=${lt.runId}`,
      '--tag',
      'test=sample',
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
    expect(JSON.parse(find(objs, 'ConfigMap', `${lt.runId}-config`).data['runner.json'])).toEqual({});
    // AND runners accept API calls from the operator's starter, the run's stop Job and the operator's namespace only
    const np = find(objs, 'NetworkPolicy', `${lt.runId}-runner`).spec;
    const labels = (c: string) => ({ 'k6.platform/test': 'sample', 'k6.platform/run-id': lt.runId, 'app.kubernetes.io/component': c });
    expect(np.ingress[0].from).toEqual([
      { podSelector: { matchLabels: labels('starter') } },
      { podSelector: { matchLabels: labels('stopper') } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'k6-operator-system' } } },
    ]);
    // AND the stop Job addresses the operator's runner Services <name>-service-<i>, i = 1..N (k6-operator v1.6.0
    // pkg/resources/jobs/runner.go NewRunnerService, internal/controller/k6_create.go)
    const stop = lt.stopJobManifest() as Obj;
    expect(stop.spec.template.spec.containers[0].args).toEqual(['--stop', ...[1, 2, 3, 4].map((i) => `http://${lt.runId}-service-${i}.k6.svc:6565`)]);
    // (the kubelet refuses a ConfigMap volume whose items name a missing key: the stop script is in the run's ConfigMap)
    const cmData = find(objs, 'ConfigMap', `${lt.runId}-config`).data as Record<string, string>;
    for (const v of stop.spec.template.spec.volumes as Obj[]) {
      expect(v.configMap.name).toBe(`${lt.runId}-config`);
      for (const item of v.configMap.items as Obj[]) expect(Object.keys(cmData)).toContain(item.key);
    }
    expect(stop.spec.template.metadata.labels).toEqual(labels('stopper'));
    expect(find(objs, 'NetworkPolicy', `${lt.runId}-stopper`).spec.egress[1]).toEqual({
      to: [{ podSelector: { matchLabels: labels('runner') } }],
      ports: [{ port: 6565, protocol: 'TCP' }],
    });
  });

  test("the initializer's `k6 archive` accepts every argument left after the operator's filter", () => {
    // GIVEN an operator test with extra args
    const { objs, lt } = synth({
      name: 'sample',
      mode: 'operator',
      parallelism: 3,
      extraArgs: ['--summary-mode=full', '--http-debug', '--out', 'json=/tmp/k6.json'],
    });
    const spec = find(objs, 'TestRun', lt.runId).spec;

    // WHEN the operator filters spec.args for the initializer (k6-operator v1.6.0 pkg/types/k6cli.go ParseCLI) and builds
    // its archive command (pkg/resources/jobs/initializer.go newInitializerCommand)
    const cli = operatorParseCli(spec.args);
    const archive = operatorArchiveCommand(
      spec.script.localFile,
      spec.initializer.env.map((e: Obj) => e.name),
      cli.archiveArgs,
    );

    // THEN the filter accepts the args, and `k6 archive` (k6 v1.7.1 flags) knows every flag and gets the script only
    expect(cli.error).toBeUndefined();
    expect(cli.hasCloudOut).toBe(false);
    const parsed = parseArgv(archive.slice(2), K6_ARCHIVE_FLAGS);
    expect(parsed.unknown).toEqual([]);
    expect(parsed.missingValue).toEqual([]);
    expect(parsed.positionals).toEqual(['/scripts/sample.js']);
    // AND the output flag and its value are gone (a `k6 archive` has no outputs), the tags and the config stay
    expect(cli.archiveArgs).not.toContain('experimental-prometheus-rw');
    expect(parsed.flags).toContainEqual({ name: 'config', value: '/etc/k6-platform/runner.json' });
    expect(parsed.flags).toContainEqual({ name: 'tag', value: `testid=${lt.runId}` });
  });

  test('the runners the operator builds get the output, --no-thresholds, the testid and test tags, all flags `k6 run` knows', () => {
    // GIVEN
    const { objs, lt } = synth({ name: 'sample', mode: 'operator', parallelism: 3 });
    const spec = find(objs, 'TestRun', lt.runId).spec;

    for (const index of [1, 2, 3]) {
      // WHEN the operator builds runner `index` (k6-operator v1.6.0 pkg/resources/jobs/runner.go NewRunnerJob: spec.args unfiltered)
      const cmd = operatorRunnerCommand(lt.runId, index, 3, spec.args, spec.script.localFile);
      const parsed = parseArgv(cmd.slice(2), K6_RUN_FLAGS);

      // THEN k6 v1.7.1 `run` knows every flag, and the run writes to Prometheus tagged with the run and the test
      expect(parsed.unknown).toEqual([]);
      expect(parsed.missingValue).toEqual([]);
      expect(parsed.positionals).toEqual(['/scripts/sample.js']);
      expect(parsed.flags.filter((f) => f.name === 'out')).toEqual([{ name: 'out', value: 'experimental-prometheus-rw' }]);
      expect(parsed.flags.filter((f) => f.name === 'tag').map((f) => f.value)).toEqual([
        `testid=${lt.runId}`,
        'test=sample',
        `instance_id=${index}`,
        `testrun_name=${lt.runId}`,
      ]);
      expect(parsed.flags).toContainEqual({ name: 'no-thresholds' });
      // AND the platform sets no flag the operator sets itself (no duplicate segments, address, paused, quiet)
      for (const own of ['execution-segment', 'execution-segment-sequence', 'address', 'paused', 'quiet']) {
        expect(parsed.flags.filter((f) => f.name === own)).toHaveLength(1);
      }
    }
  });

  test('the port of the operator filter behaves as its source says (separate --out dropped with its value, --out=x kept)', () => {
    // k6-operator v1.6.0 pkg/types/k6cli.go ParseCLI
    expect(operatorParseCli(['--out', 'experimental-prometheus-rw', '--tag', 'a=b']).archiveArgs).toEqual(['--tag', 'a=b']);
    expect(operatorParseCli(['-o', 'cloud']).hasCloudOut).toBe(true);
    expect(operatorParseCli(['--out=experimental-prometheus-rw']).archiveArgs).toEqual(['--out=experimental-prometheus-rw']);
    expect(operatorParseCli(['--linger', '--no-usage-report', '-v', '--log-output=loki=x', '--no-thresholds']).archiveArgs).toEqual([
      '--no-thresholds',
    ]);
    expect(operatorParseCli(['--user-agent', '', '--quiet']).archiveArgs).toEqual(['--quiet']);
    expect(operatorParseCli(['script.js']).error).toBe('encountered an invalid value for k6 CLI argument: `script.js`');
    // and the flag check reads argv as pflag does: `--out=x` is unknown to `k6 archive`
    expect(parseArgv(['--out=experimental-prometheus-rw'], K6_ARCHIVE_FLAGS).unknown).toEqual(['--out=experimental-prometheus-rw']);
  });

  test('the initializer gets only what `k6 archive` and `k6 inspect` need: no remote-write credentials, no Secrets', () => {
    // GIVEN an operator test with literal env, secret env, envFrom of both kinds, and basic-auth remote write
    const { objs, lt } = synth(
      {
        name: 'sample',
        mode: 'operator',
        parallelism: 2,
        env: { BASE_URL: 'https://example.com', K6_VUS: '20' },
        secretEnv: { API_TOKEN: { name: 'tok', key: 'token' } },
        envFrom: [{ configMap: 'settings' }, { secret: 'creds', prefix: 'C_' }],
      },
      { runner: { remoteWriteAuth: { type: 'basic', username: { name: 'rw', key: 'user' }, password: { name: 'rw', key: 'pass' } } } },
    );
    const spec = find(objs, 'TestRun', lt.runId).spec;

    // THEN the initializer's env is the script's literal env and the runner count, nothing from Secrets
    // (k6-operator v1.6.0 pkg/resources/jobs/initializer.go passes every env entry to `k6 archive` as `-e NAME=$(NAME)`)
    expect(spec.initializer.env).toEqual([
      { name: 'K6_PLATFORM_RUNNERS', value: '2' },
      { name: 'BASE_URL', value: 'https://example.com' },
      { name: 'K6_VUS', value: '20' },
    ]);
    expect(spec.initializer.envFrom).toEqual([{ configMapRef: { name: 'settings' } }]);
    // AND it still has the image, the scripts, the run config and /tmp, the restricted security contexts and its labels
    expect(spec.initializer.image).toBe(spec.runner.image);
    expect(spec.initializer.volumes).toEqual(spec.runner.volumes);
    expect(spec.initializer.volumeMounts).toEqual(spec.runner.volumeMounts);
    expect(spec.initializer.containerSecurityContext).toEqual(spec.runner.containerSecurityContext);
    expect(spec.initializer.serviceAccountName).toBe(`${lt.runId}-runner`);
    expect(spec.initializer.automountServiceAccountToken).toBe('false');
    // AND the runners keep everything: credentials, secret env, all envFrom
    const runnerEnv = envOf(spec.runner);
    expect(runnerEnv).toMatchObject({
      K6_PROMETHEUS_RW_USERNAME: { secretKeyRef: { name: 'rw', key: 'user' } },
      K6_PROMETHEUS_RW_PASSWORD: { secretKeyRef: { name: 'rw', key: 'pass' } },
      API_TOKEN: { secretKeyRef: { name: 'tok', key: 'token' } },
      BASE_URL: 'https://example.com',
    });
    expect(spec.runner.envFrom).toEqual([{ configMapRef: { name: 'settings' } }, { prefix: 'C_', secretRef: { name: 'creds' } }]);
    expectValidAndRestricted(objs);
  });

  test("the run's labels reach every Job and pod the operator creates (runner, initializer, starter metadata.labels)", () => {
    // GIVEN
    const { objs, lt } = synth({ name: 'sample', mode: 'operator' });
    const spec = find(objs, 'TestRun', lt.runId).spec;
    // THEN each pod template names the run id, the test and its component: the operator adds these labels to its own
    // (`app: k6`, `k6_cr`, `runner: "true"`) on the Jobs and their pods, keeping its own on a clash (k6-operator v1.6.0
    // pkg/resources/jobs/runner.go NewRunnerJob, initializer.go NewInitializerJob, starter.go NewStarterJob)
    for (const component of ['runner', 'initializer', 'starter']) {
      const labels = spec[component].metadata.labels;
      expect(labels).toMatchObject({ 'k6.platform/run-id': lt.runId, 'k6.platform/test': 'sample', 'app.kubernetes.io/component': component });
      for (const operatorOwn of ['app', 'k6_cr', 'runner', 'job-name']) expect(labels[operatorOwn]).toBeUndefined();
    }
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
      '\'tests[0].targets[0].cidr\' must be a CIDR such as "203.0.113.0/24" or "2001:db8::/32" (four decimal octets without leading zeros, or IPv6 without a zone and not IPv4-mapped), got "10.0.0.300/8"',
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
      'joined --out with operator',
      { mode: 'operator', extraArgs: ['--summary-mode=full', '--out=json=/tmp/k6.json'] },
      '\'tests[0].extraArgs[1]\' must not join a `k6 run`-only flag (--out/-o, --linger/-l, --no-usage-report) with a value with mode "operator" ' +
        '(the operator\'s initializer passes it on to `k6 archive`, which rejects it): write "--out", "<output>" as two items, or "--linger", got "--out=json=/tmp/k6.json"',
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
    // GIVEN the test as written (not parsed), named as the prop `test`
    const chart = Testing.chart();
    const scripts = new TestScripts(chart, 'S', { testName: 't', entry: 'sample.js', scriptsDir: SCRIPTS_DIR });
    const test = { name: 't', script: 'sample.js', ...bad } as TestInput;
    // WHEN / THEN
    expect(() => new LoadTest(chart, 'Run', { test, scripts, remoteWriteUrl: RW_URL })).toThrow(
      `LoadTest: ${message.replace("'tests[0].", "'test.")}`,
    );
  });

  test('the test as written and the same test parsed make the same run (parsed once, defaults from the schema)', () => {
    // GIVEN
    const written: TestInput = { name: 'api', script: 'sample.js', parallelism: 3, duration: '1m' };
    const parsed: TestConfig = testSchema.parse(written);
    const build = (test: TestInput) => {
      const chart = new Chart(Testing.app(), 'test', { namespace: 'k6' });
      const scripts = new TestScripts(chart, 'Scripts', { testName: 'api', entry: 'sample.js', scriptsDir: SCRIPTS_DIR });
      const lt = new LoadTest(chart, 'Run', { test, scripts, remoteWriteUrl: RW_URL });
      return { lt, objs: Testing.synth(chart) };
    };
    // WHEN
    const fromInput = build(written);
    const fromParsed = build(parsed);
    // THEN
    expect(fromInput.lt.test).toEqual(parsed);
    expect(fromInput.lt.test.gracePeriod).toBe('2m');
    expect(fromInput.lt.runId).toBe(fromParsed.lt.runId);
    expect(fromInput.objs).toEqual(fromParsed.objs);
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

    // THEN form A for the sample test: 2 indexed runners writing to the in-cluster Prometheus, the starter beside runner 0
    const sample = charts.runs.get('sample')!;
    const job = find(objs, 'Job', `${sample.runId}-runner`);
    expect(job.metadata.namespace).toBe('k6');
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2, activeDeadlineSeconds: 300 + 60 + 120 });
    expect(envOf(job.spec.template.spec.containers[0]).K6_PROMETHEUS_RW_SERVER_URL).toBe(
      'http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write',
    );
    expect(job.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } });
    expect(job.spec.template.spec.containers[1].args).toHaveLength(2);
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

describe('k6 modules the scripts import, against the runner image (buildPlatform)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const scriptsDir = (files: Record<string, string>) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'k6-modules-'));
    dirs.push(dir);
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
    return dir;
  };
  const scripts = scriptsDir({
    'data.js': "import http from 'k6/http';\nimport { gen } from './lib/gen.js';\nexport default function () { http.get(gen()); }",
    'lib/gen.js': "import faker from 'k6/x/faker';\nexport const gen = () => faker.internet.url();",
    'db.js': "import sql from 'k6/x/sql';\nimport driver from 'k6/x/sql/driver/postgres';\nexport default function () {}",
    'ui.js': "import { browser } from 'k6/browser';\nexport default async function () { const page = await browser.newPage(); await page.close(); }",
    'custom.js': "import custom from 'k6/x/custom';\nexport default function () {}",
  });
  const build = { registry: 'registry.example.com', repository: 'team/k6', build: 'local' };
  const platform = (tests: { name: string; script: string }[], runner: Record<string, unknown> = {}) =>
    buildPlatform(Testing.app(), { config: parsePlatformConfig({ tests, runner }), scriptsDir: scripts });

  test('k6/x/<name> with no runner.extensions entry providing it fails, naming the test, the file and line, and the field', () => {
    // GIVEN an extension module imported by a helper, and none declared
    // WHEN / THEN
    expect(() => platform([{ name: 'data', script: 'data.js' }])).toThrow(
      "LoadTestPlatform: 'tests[0].script' data.js imports k6/x/faker (lib/gen.js line 1), which no 'runner.extensions' entry provides (none declared); " +
        "add the xk6 extension that provides it (by convention github.com/<owner>/xk6-faker) to 'runner.extensions'",
    );
    expect(() =>
      platform([{ name: 'db', script: 'db.js' }], { ...build, extensions: [{ module: 'github.com/grafana/xk6-sql', version: 'v1.0.0' }] }),
    ).toThrow(
      "LoadTestPlatform: 'tests[0].script' db.js imports k6/x/sql/driver/postgres (db.js line 2), which no 'runner.extensions' entry provides (declared: github.com/grafana/xk6-sql)",
    );
  });

  test('k6/x/<name> provided by an extension (xk6-<name>, xk6-sql-driver-<db>, /vN suffix) passes', () => {
    const charts = platform(
      [
        { name: 'data', script: 'data.js' },
        { name: 'db', script: 'db.js' },
      ],
      {
        ...build,
        extensions: [
          { module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' },
          { module: 'github.com/grafana/xk6-sql/v2', version: 'v2.0.0' },
          { module: 'github.com/grafana/xk6-sql-driver-postgres', version: 'v0.1.1' },
        ],
      },
    );
    expect(charts.warnings).toEqual([]);
    expect(charts.scripts.get('db')!.modules.map((m) => m.module)).toEqual(['k6/x/sql', 'k6/x/sql/driver/postgres']);
  });

  test('an extension whose module path does not say which module it provides makes a warning, not an error', () => {
    const charts = platform([{ name: 'custom', script: 'custom.js' }], {
      ...build,
      extensions: [{ module: 'example.com/acme/k6-custom', version: 'v1.0.0' }],
    });
    expect(charts.warnings).toEqual([
      "LoadTestPlatform: 'tests[0].script' custom.js imports k6/x/custom (custom.js line 1), which no 'runner.extensions' entry provides by name " +
        '(github.com/<owner>/xk6-custom provides k6/x/custom); make sure one of example.com/acme/k6-custom provides it',
    ]);
  });

  test('k6/browser needs an image with a browser: an explicit official image without one, or a build with extensions, fails', () => {
    const ui = [{ name: 'ui', script: 'ui.js' }];
    expect(platform(ui).runs.get('ui')!.image).toBe('grafana/k6:1.7.1-with-browser');
    expect(() => platform(ui, { image: 'grafana/k6:1.6.0' })).toThrow(
      "LoadTestPlatform: 'tests[0].script' ui.js imports k6/browser (ui.js line 1), so test 'ui' needs a browser, but 'runner.image' grafana/k6:1.6.0 has none; " +
        "set 'runner.image' to grafana/k6:1.6.0-with-browser, or remove 'runner.image'",
    );
    expect(() => platform(ui, { ...build, extensions: [{ module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' }] })).toThrow(
      "LoadTestPlatform: 'tests[0].script' ui.js imports k6/browser (ui.js line 1), but 'runner.extensions' builds k6 on grafana/k6:1.7.1, which has no browser; " +
        "run browser tests on 'runner.image' grafana/k6:1.7.1-with-browser (without extensions)",
    );
  });

  test('k6/browser on the official -with-browser image passes; on an image the platform does not know, a warning', () => {
    expect(platform([{ name: 'ui', script: 'ui.js' }], { image: 'grafana/k6:1.7.1-with-browser' }).warnings).toEqual([]);
    expect(platform([{ name: 'ui', script: 'ui.js' }], { image: 'registry.example.com/team/k6-chrome:1.0.0' }).warnings).toEqual([
      "LoadTestPlatform: 'tests[0].script' ui.js imports k6/browser (ui.js line 1): make sure the runner image registry.example.com/team/k6-chrome:1.0.0 has a browser (the official one is grafana/k6:1.7.1-with-browser)",
    ]);
  });

  test('remote modules with no HTTPS egress for the runners: a warning naming the targets field', () => {
    // GIVEN a script importing a jslib module, fetched by every runner when it starts
    const dir = scriptsDir({ 'remote.js': "import { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';\nexport default function () {}" });
    const build = (targets: unknown[]) =>
      buildPlatform(Testing.app(), { config: parsePlatformConfig({ tests: [{ name: 'remote', script: 'remote.js', targets }] }), scriptsDir: dir });
    // THEN
    expect(build([{ namespace: 'shop', ports: [8080] }]).warnings).toEqual([
      "LoadTestPlatform: 'tests[0].script' remote.js imports https://jslib.k6.io/k6-utils/1.4.0/index.js (remote.js line 1), which k6 fetches when each runner starts, " +
        "but 'tests[0].targets' allow no HTTPS egress to an IP block (port 443); add the module host's addresses, or bundle the module as a local file",
    ]);
    expect(build([{ cidr: '0.0.0.0/0', ports: [443] }]).warnings).toEqual([]);
  });

  test('every problem of every test is reported at once', () => {
    expect(() =>
      platform(
        [
          { name: 'data', script: 'data.js' },
          { name: 'ui', script: 'ui.js' },
        ],
        { image: 'grafana/k6:1.7.0' },
      ),
    ).toThrow(/tests\[0\]\.script' data\.js imports k6\/x\/faker[^\n]*\nLoadTestPlatform: 'tests\[1\]\.script' ui\.js imports k6\/browser/);
  });
});
