import { CONFIG_NAMESPACE, parsePlatformConfig, platformInputFromStackConfig, PlatformConfigError } from '../src/platform-config';
import { defaultK6Image, versions } from '../src/versions';

/** The problems a bad input produces (the test fails if it parses). */
function problemsOf(input: unknown, keyPrefix = ''): readonly string[] {
  try {
    parsePlatformConfig(input, { keyPrefix });
  } catch (e) {
    if (e instanceof PlatformConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the config to be rejected');
}

describe('parsePlatformConfig', () => {
  test('defaults: dev works with no file at all', () => {
    // WHEN
    const cfg = parsePlatformConfig(undefined);
    // THEN
    expect(cfg.environment).toBe('dev');
    expect(cfg.namespaces).toEqual({ monitoring: 'monitoring', loadTests: 'k6' });
    expect(cfg.monitoring.enabled).toBe(true);
    expect(cfg.monitoring.releaseName).toBe('kube-prometheus-stack');
    expect(cfg.monitoring.chart).toEqual({ version: versions.kubePrometheusStack.version, repository: versions.kubePrometheusStack.repository });
    expect(cfg.monitoring.prometheus).toEqual({
      retention: '15d',
      retentionSize: '45GB',
      storage: { size: '50Gi' },
      resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '4Gi' } },
    });
    expect(cfg.monitoring.grafana.adminSecret).toEqual({ name: 'grafana-admin', userKey: 'admin-user', passwordKey: 'admin-password' });
    expect(cfg.monitoring.alertmanager.enabled).toBe(false);
    expect(cfg.runner.image).toBe(defaultK6Image);
    expect(cfg.runner.pushInterval).toBe('5s');
    expect(cfg.runner.nativeHistograms).toBe(true);
    expect(cfg.tests.map((t) => [t.name, t.script, t.parallelism, t.mode])).toEqual([['sample', 'sample.js', 2, 'jobs']]);
  });

  test('all options are kept as given', () => {
    // GIVEN
    const input = {
      environment: 'prod',
      namespaces: { monitoring: 'obs', loadTests: 'perf' },
      monitoring: {
        releaseName: 'kps',
        chart: { version: '88.5.4', path: './charts/kps.tgz' },
        prometheus: { retention: '30d', retentionSize: '180GB', storage: { size: '200Gi', storageClassName: 'fast-ssd' } },
        grafana: { adminSecret: { name: 'admin' }, ingress: { enabled: true, host: 'grafana.example.com', className: 'nginx' } },
        alertmanager: { enabled: true },
      },
      runner: {
        image: 'registry.example.com:5000/team/k6:1.7.1',
        pushInterval: '10s',
        nativeHistograms: false,
        remoteWriteAuth: { type: 'bearer', token: { name: 'rw', key: 'token' } },
      },
      tests: [{ name: 'api', script: 'api.js', parallelism: 8, env: { TARGET_URL: 'http://api' }, mode: 'operator' }],
    };
    // WHEN
    const cfg = parsePlatformConfig(input);
    // THEN
    expect(cfg.namespaces).toEqual({ monitoring: 'obs', loadTests: 'perf' });
    expect(cfg.monitoring.chart).toEqual({ version: '88.5.4', repository: versions.kubePrometheusStack.repository, path: './charts/kps.tgz' });
    expect(cfg.monitoring.prometheus.storage).toEqual({ size: '200Gi', storageClassName: 'fast-ssd' });
    expect(cfg.monitoring.grafana.adminSecret).toEqual({ name: 'admin', userKey: 'admin-user', passwordKey: 'admin-password' });
    expect(cfg.runner.remoteWriteAuth).toEqual({ type: 'bearer', token: { name: 'rw', key: 'token' } });
    expect(cfg.tests[0]).toMatchObject({ name: 'api', parallelism: 8, env: { TARGET_URL: 'http://api' }, mode: 'operator' });
  });

  test.each([
    [{ environment: 'Prod' }, `'environment' must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric, got "Prod"`],
    [
      { namespaces: { loadTests: 'k6_tests' } },
      `'namespaces.loadTests' must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric, got "k6_tests"`,
    ],
    [
      { monitoring: { chart: { version: 'v88' } } },
      `'monitoring.chart.version' must be a semantic version such as "88.5.3" (no leading "v"), got "v88"`,
    ],
    [
      { monitoring: { prometheus: { retention: '2 weeks' } } },
      `'monitoring.prometheus.retention' must be a Prometheus duration such as "15d", "12h" or "1w", got "2 weeks"`,
    ],
    [
      { monitoring: { prometheus: { retention: '' } } },
      `'monitoring.prometheus.retention' must be a Prometheus duration such as "15d", "12h" or "1w", got ""`,
    ],
    [
      { monitoring: { prometheus: { retentionSize: '45G' } } },
      `'monitoring.prometheus.retentionSize' must be a byte size such as "45GB" or "512MiB", got "45G"`,
    ],
    [
      { monitoring: { prometheus: { storage: { size: 'big' } } } },
      `'monitoring.prometheus.storage.size' must be a Kubernetes quantity such as "500m", "1", "512Mi" or "2Gi", got "big"`,
    ],
    [
      { monitoring: { prometheus: { resources: { limits: { gpu: '1' } } } } },
      `'monitoring.prometheus.resources.limits.gpu' is not a known setting (allowed here: cpu, memory, ephemeral-storage)`,
    ],
    [
      { runner: { image: 'https://docker.io/grafana/k6' } },
      expect.stringMatching(/^'runner.image' must be an OCI image reference .*, got "https:\/\/docker.io\/grafana\/k6"$/),
    ],
    [{ runner: { pushInterval: '5 seconds' } }, `'runner.pushInterval' must be a k6 duration such as "30s", "1m30s" or "2h", got "5 seconds"`],
    [
      { runner: { remoteWriteAuth: { type: 'basic', username: { name: 'rw', key: 'user' }, password: { name: 'rw' } } } },
      `'runner.remoteWriteAuth.password.key' must name the key inside the Secret, got nothing`,
    ],
    [
      { runner: { remoteWriteAuth: { type: 'oauth' } } },
      `'runner.remoteWriteAuth.type' must be {type: "basic", username, password} or {type: "bearer", token}, each a Secret reference {name, key}, or {type: "none"}, got {"type":"oauth"}`,
    ],
    [{ tests: [{ name: 'a', script: 'a.js', parallelism: 0 }] }, `'tests[0].parallelism' must be at least 1, got 0`],
    [{ tests: [{ name: 'a', script: 'a.js', parallelism: 1.5 }] }, `'tests[0].parallelism' must be an integer, got 1.5`],
    [{ tests: [{ name: 'a', script: 'a.js', mode: 'k8s' }] }, `'tests[0].mode' must be one of "jobs", "operator", got "k8s"`],
    [
      { tests: [{ name: 'a', script: 'a.js', env: { 'BAD-NAME': 'x' } }] },
      `'tests[0].env.BAD-NAME' must be an environment variable name, got "BAD-NAME"`,
    ],
    [{ tests: [{ name: 'a' }] }, `'tests[0].script' is required (string), got nothing`],
    [{ bogus: true }, `'bogus' is not a known setting (allowed here: environment, namespaces, monitoring, runner, network, tests)`],
  ])('rejects %j naming the field, the value and the rule', (input, expected) => {
    expect(problemsOf(input)).toContainEqual(expected);
  });

  test('cross-field rules: duplicate test names, external monitoring without URL, ingress without host', () => {
    // WHEN
    const problems = problemsOf({
      monitoring: { enabled: false, grafana: { ingress: { enabled: true } } },
      tests: [
        { name: 'a', script: 'a.js' },
        { name: 'a', script: 'b.js' },
      ],
    });
    // THEN
    expect(problems).toEqual([
      `'tests[1].name' must be unique, already used by 'tests[0]', got "a"`,
      `'monitoring.remoteWriteUrl' must be set when monitoring.enabled is false (runners need a Prometheus to write to), got nothing`,
      `'monitoring.grafana.ingress.host' must be set when the ingress is enabled, got nothing`,
    ]);
  });

  test('collects every problem and throws once, naming the source', () => {
    // WHEN
    const run = () =>
      parsePlatformConfig({ environment: 'X', tests: [{ name: 'a', script: 'a.js', parallelism: -1 }] }, { description: 'Pulumi.dev.yaml' });
    // THEN
    expect(run).toThrow(PlatformConfigError);
    expect(run).toThrow(
      /^Invalid Pulumi.dev.yaml \(2 problems\):\n {2}- 'environment' .*\n {2}- 'tests\[0\]\.parallelism' must be at least 1, got -1$/,
    );
  });

  test('names stack config keys with the Pulumi namespace', () => {
    expect(problemsOf({ runner: { pushInterval: 'soon' }, typo: 1 }, 'k6platform:')).toEqual([
      `'k6platform:runner.pushInterval' must be a k6 duration such as "30s", "1m30s" or "2h", got "soon"`,
      `'k6platform:typo' is not a known setting (allowed here: k6platform:environment, k6platform:namespaces, k6platform:monitoring, k6platform:runner, k6platform:network, k6platform:tests)`,
    ]);
  });
});

describe('parsePlatformConfig: security settings', () => {
  const DIGEST = `sha256:${'a1'.repeat(32)}`;

  test('network: cluster ranges and DNS pods default to private ranges and kube-system/kube-dns, and can be set', () => {
    // WHEN
    const defaults = parsePlatformConfig({}).network;
    const custom = parsePlatformConfig({
      network: { clusterCidrs: ['10.96.0.0/12', '2001:db8::/64'], dns: { namespace: 'dns', podLabels: { app: 'coredns' } } },
    }).network;
    // THEN
    expect(defaults).toEqual({
      clusterCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'],
      dns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
    });
    expect(custom).toEqual({ clusterCidrs: ['10.96.0.0/12', '2001:db8::/64'], dns: { namespace: 'dns', podLabels: { app: 'coredns' } } });
    expect(problemsOf({ network: { clusterCidrs: ['10.0.0.0/33'], dns: { podLabels: {} } } })).toEqual([
      `'network.clusterCidrs[0]' must be a CIDR such as "203.0.113.0/24" or "2001:db8::/32", got "10.0.0.0/33"`,
      `'network.dns.podLabels' must name at least one label (an empty selector selects every pod of the namespace), got {}`,
    ]);
  });

  test('a remote-write URL outside the cluster needs credentials, or the explicit opt-out {type: "none"}', () => {
    // GIVEN an external endpoint without credentials
    const external = { monitoring: { enabled: false, remoteWriteUrl: 'https://prom.example.com/api/v1/write' } };
    // THEN
    expect(problemsOf(external)).toEqual([
      `'runner.remoteWriteAuth' is required when monitoring.remoteWriteUrl (https://prom.example.com/api/v1/write) is outside the cluster: ` +
        'set {type: "basic", username, password} or {type: "bearer", token} (Secret references), or {type: "none"} to send without credentials, got nothing',
    ]);
    expect(parsePlatformConfig({ ...external, runner: { remoteWriteAuth: { type: 'none' } } }).runner.remoteWriteAuth).toEqual({ type: 'none' });
    expect(
      parsePlatformConfig({ ...external, runner: { remoteWriteAuth: { type: 'bearer', token: { name: 'rw', key: 't' } } } }).runner.remoteWriteAuth
        ?.type,
    ).toBe('bearer');
    // AND in-cluster Service names need none: <svc>.<ns>.svc[.<domain>], or <svc>.<ns> over http
    for (const url of [
      'http://prometheus-operated.observability:9090/api/v1/write',
      'http://prometheus-operated.observability.svc:9090/api/v1/write',
      'https://mimir.obs.svc.cluster.local/api/v1/push',
    ]) {
      expect(parsePlatformConfig({ monitoring: { enabled: false, remoteWriteUrl: url } }).runner.remoteWriteAuth).toBeUndefined();
    }
    // AND the platform's own Prometheus needs none
    expect(parsePlatformConfig({}).runner.remoteWriteAuth).toBeUndefined();
    expect(problemsOf({ monitoring: { enabled: false, remoteWriteUrl: 'https://example.com/api/v1/write' } })[0]).toMatch(
      /^'runner.remoteWriteAuth' is required/,
    );
  });

  test('image digests: tags by default; digests validated, in runner.image or runner.imageDigests', () => {
    // WHEN
    const cfg = parsePlatformConfig({ runner: { imageDigests: { k6: DIGEST, starter: DIGEST } } });
    // THEN
    expect(parsePlatformConfig({}).runner.imageDigests).toEqual({});
    expect(cfg.runner.imageDigests).toEqual({ k6: DIGEST, starter: DIGEST });
    expect(parsePlatformConfig({ runner: { image: `grafana/k6:1.7.1@${DIGEST}` } }).runner.image).toBe(`grafana/k6:1.7.1@${DIGEST}`);
    expect(problemsOf({ runner: { imageDigests: { k6: 'sha256:abc', starter: `sha256:${'A1'.repeat(32)}` } } })).toEqual([
      `'runner.imageDigests.k6' must be an image digest "sha256:" followed by 64 lower-case hex digits (\`crane digest <image>\`), got "sha256:abc"`,
      `'runner.imageDigests.starter' must be an image digest "sha256:" followed by 64 lower-case hex digits (\`crane digest <image>\`), got "sha256:${'A1'.repeat(32)}"`,
    ]);
    expect(problemsOf({ runner: { image: `grafana/k6:1.7.1@sha256:${'ab'.repeat(20)}` } })).toEqual([
      `'runner.image' must have a sha256 digest after "@" ("@sha256:" and 64 lower-case hex digits, as \`crane digest <image>\` prints it), got "grafana/k6:1.7.1@sha256:${'ab'.repeat(20)}"`,
    ]);
    expect(problemsOf({ runner: { image: `grafana/k6@${DIGEST}`, imageDigests: { k6: DIGEST } } })).toEqual([
      `'runner.imageDigests.k6' must not be set when runner.image already has a digest (grafana/k6@${DIGEST}); remove one, got "${DIGEST}"`,
    ]);
  });
});

describe('platformInputFromStackConfig', () => {
  test('takes k6platform keys, parses JSON strings, skips other namespaces and deploy-only keys', () => {
    // GIVEN
    const entries = {
      [`${CONFIG_NAMESPACE}:runner`]: '{"pushInterval":"10s"}',
      [`${CONFIG_NAMESPACE}:monitoring`]: { alertmanager: { enabled: true } },
      [`${CONFIG_NAMESPACE}:grafanaAdminPassword`]: { secure: 'v1:abc' },
      [`${CONFIG_NAMESPACE}:context`]: 'kind-k6',
      'kubernetes:context': 'kind-k6',
    };
    // WHEN
    const input = platformInputFromStackConfig(entries, 'staging');
    // THEN
    expect(input).toEqual({ environment: 'staging', runner: { pushInterval: '10s' }, monitoring: { alertmanager: { enabled: true } } });
  });
});
