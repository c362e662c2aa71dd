import { podTemplates, restrictedProfileViolations } from './pod-security';

const goodContainer = {
  name: 'app',
  image: 'x',
  securityContext: {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  },
};
const job = (podSpec: Record<string, unknown>) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'j' },
  spec: { template: { spec: podSpec } },
});

describe('restrictedProfileViolations', () => {
  test('a compliant pod template has no violations', () => {
    // GIVEN / WHEN / THEN
    expect(restrictedProfileViolations([job({ containers: [goodContainer], volumes: [{ name: 't', emptyDir: {} }] })])).toEqual([]);
  });

  test('pod-level runAsNonRoot and seccomp cover the containers', () => {
    // GIVEN a pod that sets runAsNonRoot and seccomp once
    const c = { name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } };
    // WHEN / THEN
    expect(
      restrictedProfileViolations([job({ securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [c] })]),
    ).toEqual([]);
  });

  test('reports every broken rule with where it is', () => {
    // GIVEN a pod breaking many rules at once
    const bad = job({
      hostNetwork: true,
      hostPID: true,
      securityContext: { runAsUser: 0, seccompProfile: { type: 'Unconfined' }, sysctls: [{ name: 'kernel.msgmax', value: '1' }] },
      volumes: [
        { name: 'h', hostPath: { path: '/' } },
        { name: 'n', nfs: { server: 's', path: '/' } },
      ],
      initContainers: [{ name: 'init', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }],
      containers: [
        { name: 'app', ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { runAsNonRoot: false, allowPrivilegeEscalation: true } },
      ],
    });
    // WHEN
    const v = restrictedProfileViolations([bad]);
    // THEN
    expect(v).toEqual([
      'Job/j: hostNetwork must not be true',
      'Job/j: hostPID must not be true',
      'Job/j: volume "h" must not be a hostPath volume',
      'Job/j: volume "n" has type nfs; restricted allows only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret',
      'Job/j: sysctl kernel.msgmax is not in the safe set',
      'Job/j: securityContext.runAsUser must not be 0',
      'Job/j: securityContext.seccompProfile.type must be RuntimeDefault or Localhost, got Unconfined',
      'Job/j: container "init": privileged must not be true',
      'Job/j: container "init": allowPrivilegeEscalation must be false',
      'Job/j: container "init": runAsNonRoot must be true (on the container or the pod)',
      'Job/j: container "init": seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got Unconfined',
      'Job/j: container "init": capabilities.drop must include ALL',
      'Job/j: container "init": capabilities.add may only hold NET_BIND_SERVICE, got SYS_ADMIN',
      'Job/j: container "app": hostPort 80 must not be set',
      'Job/j: container "app": allowPrivilegeEscalation must be false',
      'Job/j: container "app": runAsNonRoot must be true (on the container or the pod)',
      'Job/j: container "app": seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got Unconfined',
      'Job/j: container "app": capabilities.drop must include ALL',
    ]);
  });

  test('allows NET_BIND_SERVICE and Localhost seccomp', () => {
    // GIVEN
    const c = {
      ...goodContainer,
      securityContext: {
        ...goodContainer.securityContext,
        capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
        seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' },
      },
    };
    // WHEN / THEN
    expect(restrictedProfileViolations([job({ containers: [c] })])).toEqual([]);
  });

  test('finds pod templates in every workload kind and in TestRuns', () => {
    // GIVEN one object of each kind
    const t = { spec: { containers: [goodContainer] } };
    const manifests = [
      { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [goodContainer] } },
      { kind: 'Deployment', metadata: { name: 'd' }, spec: { template: t } },
      { kind: 'StatefulSet', metadata: { name: 's' }, spec: { template: t } },
      { kind: 'DaemonSet', metadata: { name: 'ds' }, spec: { template: t } },
      { kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template: t } } } },
      { kind: 'TestRun', metadata: { name: 'tr' }, spec: { runner: {}, starter: {} } },
      { kind: 'ConfigMap', metadata: { name: 'cm' } },
    ];
    // WHEN
    const found = podTemplates(manifests).map((p) => p.where);
    // THEN
    expect(found).toEqual(['Pod/p', 'Deployment/d', 'StatefulSet/s', 'DaemonSet/ds', 'CronJob/c', 'TestRun/tr (runner)', 'TestRun/tr (starter)']);
    // AND a TestRun without security settings is reported for its runner and starter
    expect(restrictedProfileViolations(manifests.slice(5))).toEqual([
      'TestRun/tr (runner): container "k6": allowPrivilegeEscalation must be false',
      'TestRun/tr (runner): container "k6": runAsNonRoot must be true (on the container or the pod)',
      'TestRun/tr (runner): container "k6": seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got nothing',
      'TestRun/tr (runner): container "k6": capabilities.drop must include ALL',
      'TestRun/tr (starter): container "starter": allowPrivilegeEscalation must be false',
      'TestRun/tr (starter): container "starter": runAsNonRoot must be true (on the container or the pod)',
      'TestRun/tr (starter): container "starter": seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got nothing',
      'TestRun/tr (starter): container "starter": capabilities.drop must include ALL',
    ]);
  });
});
