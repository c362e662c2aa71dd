/**
 * Checks every pod template in a list of manifests against the Pod Security Standards *restricted* profile (which
 * includes *baseline*), as published at https://kubernetes.io/docs/concepts/security/pod-security-standards/ for
 * version "latest". Use it on everything the project synthesizes:
 *
 *   expect(restrictedProfileViolations(Testing.synth(chart))).toEqual([]);
 *
 * Pod templates are found in Pod, Job, CronJob, Deployment, StatefulSet, DaemonSet and ReplicaSet objects, and in
 * k6-operator TestRuns (spec.runner, spec.starter, spec.initializer: the operator builds pods from them, the container
 * security context coming from `containerSecurityContext`).
 */

type Json = Record<string, unknown>;

interface ContainerView {
  readonly name: string;
  readonly securityContext?: Json;
  readonly ports?: readonly Json[];
}

interface PodView {
  /** Where the pod template is, e.g. `Job/sample-runner` or `TestRun/sample (runner)`. */
  readonly where: string;
  readonly spec: Json;
  readonly annotations: Record<string, string>;
  readonly containers: readonly ContainerView[];
}

/**
 * Volume types the restricted profile allows. `image` (image volumes) is allowed from Kubernetes 1.33 on
 * (kubernetes/pod-security-admission v0.33.0 policy/check_restrictedVolumes.go; absent in v0.32.0).
 */
export const RESTRICTED_VOLUME_TYPES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
];
/** Sysctls the baseline profile allows. */
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];

const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as unknown[]).map((x) => obj(x) ?? {}) : []);

/** Every pod template of the manifests, with where it was found. */
export function podTemplates(manifests: readonly unknown[]): PodView[] {
  const out: PodView[] = [];
  for (const m of manifests) {
    const o = obj(m);
    if (o === undefined) continue;
    const kind = String(o.kind);
    const name = String(obj(o.metadata)?.name ?? '(unnamed)');
    const spec = obj(o.spec) ?? {};
    const template = (t: Json | undefined, where: string) => {
      if (t === undefined) return;
      const ps = obj(t.spec) ?? {};
      const containers = [...arr(ps.initContainers), ...arr(ps.containers), ...arr(ps.ephemeralContainers)].map((c) => ({
        name: String(c.name),
        securityContext: obj(c.securityContext),
        ports: arr(c.ports),
      }));
      out.push({ where, spec: ps, annotations: (obj(obj(t.metadata)?.annotations) ?? {}) as Record<string, string>, containers });
    };
    switch (kind) {
      case 'Pod':
        template({ metadata: o.metadata, spec: o.spec }, `Pod/${name}`);
        break;
      case 'Job':
      case 'Deployment':
      case 'StatefulSet':
      case 'DaemonSet':
      case 'ReplicaSet':
        template(obj(spec.template), `${kind}/${name}`);
        break;
      case 'CronJob':
        template(obj(obj(obj(spec.jobTemplate)?.spec)?.template), `CronJob/${name}`);
        break;
      case 'TestRun':
        for (const part of ['runner', 'starter', 'initializer'] as const) {
          const p = obj(spec[part]);
          if (p === undefined && part === 'initializer') continue; // the operator copies the runner's settings
          const pod = p ?? {};
          const csc = obj(pod.containerSecurityContext);
          const containers: ContainerView[] = [
            { name: part === 'runner' || part === 'initializer' ? 'k6' : 'starter', ...(csc !== undefined ? { securityContext: csc } : {}) },
            // the operator gives init containers the same container security context
            ...arr(pod.initContainers).map((c) => ({ name: String(c.name), ...(csc !== undefined ? { securityContext: csc } : {}) })),
          ];
          out.push({
            where: `TestRun/${name} (${part})`,
            spec: { securityContext: pod.securityContext, volumes: pod.volumes },
            annotations: (obj(obj(pod.metadata)?.annotations) ?? {}) as Record<string, string>,
            containers,
          });
        }
        break;
      default:
        break;
    }
  }
  return out;
}

/** The restricted-profile violations of every pod template in `manifests`, one readable line each (empty = compliant). */
export function restrictedProfileViolations(manifests: readonly unknown[]): string[] {
  return podTemplates(manifests).flatMap(podViolations);
}

/** Violations of one pod template. */
export function podViolations(pod: PodView): string[] {
  const v: string[] = [];
  const at = (what: string) => (msg: string) => v.push(`${pod.where}: ${what}${msg}`);
  const podAt = at('');
  const spec = pod.spec;
  const psc = obj(spec.securityContext) ?? {};

  // --- baseline ---
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (spec[f] === true) podAt(`${f} must not be true`);
  if (obj(psc.windowsOptions)?.hostProcess === true) podAt('securityContext.windowsOptions.hostProcess must not be true');
  for (const vol of arr(spec.volumes)) {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (type === 'hostPath') podAt(`volume "${String(vol.name)}" must not be a hostPath volume`);
    else if (type !== undefined && !RESTRICTED_VOLUME_TYPES.includes(type)) {
      podAt(`volume "${String(vol.name)}" has type ${type}; restricted allows only ${RESTRICTED_VOLUME_TYPES.join(', ')}`);
    }
  }
  for (const s of arr(psc.sysctls)) if (!SAFE_SYSCTLS.includes(String(s.name))) podAt(`sysctl ${String(s.name)} is not in the safe set`);
  for (const [k, val] of Object.entries(pod.annotations)) {
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && val !== 'runtime/default' && !val.startsWith('localhost/')) {
      podAt(`annotation ${k} must be runtime/default or localhost/*, got ${val}`);
    }
  }
  const checkAppArmorSeLinux = (sc: Json, report: (m: string) => void, prefix: string) => {
    if (obj(sc.appArmorProfile)?.type === 'Unconfined') report(`${prefix}appArmorProfile.type must not be Unconfined`);
    const se = obj(sc.seLinuxOptions);
    if (se !== undefined) {
      if (!SELINUX_TYPES.includes(String(se.type ?? ''))) report(`${prefix}seLinuxOptions.type ${String(se.type)} is not allowed`);
      if (se.user !== undefined || se.role !== undefined) report(`${prefix}seLinuxOptions.user and .role must not be set`);
    }
  };
  checkAppArmorSeLinux(psc, podAt, 'securityContext.');

  // --- restricted, pod level ---
  if (psc.runAsUser === 0) podAt('securityContext.runAsUser must not be 0');
  const podSeccomp = obj(psc.seccompProfile)?.type;
  if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost') {
    podAt(`securityContext.seccompProfile.type must be RuntimeDefault or Localhost, got ${String(podSeccomp)}`);
  }

  for (const c of pod.containers) {
    const report = at(`container "${c.name}": `);
    const sc = c.securityContext ?? {};
    if (sc.privileged === true) report('privileged must not be true');
    if (obj(sc.windowsOptions)?.hostProcess === true) report('windowsOptions.hostProcess must not be true');
    if (sc.procMount !== undefined && sc.procMount !== 'Default') report(`procMount must be Default, got ${String(sc.procMount)}`);
    for (const p of c.ports ?? []) if (p.hostPort !== undefined && p.hostPort !== 0) report(`hostPort ${String(p.hostPort)} must not be set`);
    checkAppArmorSeLinux(sc, report, '');
    if (sc.allowPrivilegeEscalation !== false) report('allowPrivilegeEscalation must be false');
    const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (nonRoot !== true) report('runAsNonRoot must be true (on the container or the pod)');
    if (sc.runAsUser === 0) report('runAsUser must not be 0');
    const seccomp = obj(sc.seccompProfile)?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      report(`seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got ${String(seccomp ?? 'nothing')}`);
    }
    const caps = obj(sc.capabilities) ?? {};
    const drop = Array.isArray(caps.drop) ? (caps.drop as unknown[]).map(String) : [];
    if (!drop.includes('ALL')) report('capabilities.drop must include ALL');
    const add = Array.isArray(caps.add) ? (caps.add as unknown[]).map(String) : [];
    for (const a of add) if (a !== 'NET_BIND_SERVICE') report(`capabilities.add may only hold NET_BIND_SERVICE, got ${a}`);
  }
  if (pod.containers.length === 0) podAt('has no containers');
  return v;
}
