import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { parsePlatformConfig, type PlatformConfigInput } from '../src/config/platform-config';
import { buildPlatform } from '../src/platform/platform';
import { podTemplates, restrictedProfileViolations } from '../../test/support/pod-security';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SCRIPTS_DIR = path.resolve(__dirname, '..', '..', 'scripts');
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

function objectsOf(input: PlatformConfigInput): Obj[] {
  const charts = buildPlatform(Testing.app(), { config: parsePlatformConfig(input), scriptsDir: SCRIPTS_DIR });
  return [charts.namespaces, charts.monitoring, charts.loadTests].flatMap((c) => c.toJson() as Obj[]);
}
const tests: PlatformConfigInput['tests'] = [
  { name: 'sample', script: 'sample.js', targets: [{ cidr: '0.0.0.0/0', ports: [443] }] },
  { name: 'nightly', script: 'sample.js', schedule: '0 2 * * *' },
  { name: 'op', script: 'sample.js', mode: 'operator' },
];

describe('buildPlatform: security', () => {
  test('namespaces: the load-test namespace enforces restricted; the monitoring namespace enforces privileged, audits restricted', () => {
    // WHEN
    const objs = objectsOf({ tests });
    const ns = (name: string) => objs.find((o) => o.kind === 'Namespace' && o.metadata.name === name)!.metadata.labels;
    // THEN
    expect(ns('k6')).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    // prometheus-node-exporter (subchart 4.56.1 values: hostNetwork, hostPID, hostPath mounts) needs "privileged"
    expect(ns('monitoring')).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'privileged',
      'pod-security.kubernetes.io/enforce-version': 'latest',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'latest',
      'pod-security.kubernetes.io/warn': 'baseline',
      'pod-security.kubernetes.io/warn-version': 'latest',
    });
    // AND every pod the platform itself declares meets restricted
    expect(restrictedProfileViolations(objs)).toEqual([]);
  });

  test('the load-test namespace is closed by a default-deny policy for ingress and egress', () => {
    const deny = objectsOf({ tests }).find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'k6-platform-default-deny')!;
    expect(deny.metadata.namespace).toBe('k6');
    expect(deny.metadata.labels['k6.platform/run-id']).toBeUndefined(); // deployed with the platform, not with a run
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });
  });

  test('every container has requests and limits: runners, starters (ours and the TestRun one), the initializer', () => {
    // WHEN
    const objs = objectsOf({ tests });
    // THEN jobs and CronJobs
    const containers = podTemplates(objs).flatMap((p) =>
      [...((p.spec.initContainers as Obj[] | undefined) ?? []), ...((p.spec.containers as Obj[] | undefined) ?? [])].map(
        (c) => [p.where, c] as const,
      ),
    );
    expect(containers.length).toBeGreaterThan(3);
    for (const [where, c] of containers) {
      expect([where, c.name, Object.keys(c.resources?.requests ?? {}), Object.keys(c.resources?.limits ?? {})]).toEqual([
        where,
        c.name,
        expect.arrayContaining(['cpu', 'memory']),
        expect.arrayContaining(['cpu', 'memory']),
      ]);
    }
    // AND the TestRun's three pod parts (the CRD's spec.{runner,initializer,starter}.resources)
    const tr = objs.find((o) => o.kind === 'TestRun')!;
    for (const part of ['runner', 'initializer', 'starter']) {
      expect(Object.keys(tr.spec[part].resources.requests).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(tr.spec[part].resources.limits).sort()).toEqual(['cpu', 'memory']);
    }
  });

  test('image digests: tags by default; with runner.imageDigests, tag@digest for runners and starters of both forms', () => {
    // WHEN
    const tagged = objectsOf({ tests });
    const pinned = objectsOf({ tests, runner: { imageDigests: { k6: DIGEST, starter: DIGEST } } });
    const images = (objs: Obj[]) => {
      const jobs = objs.filter((o) => o.kind === 'Job').flatMap((j) => (j.spec.template.spec.containers as Obj[]).map((c) => c.image as string));
      const tr = objs.find((o) => o.kind === 'TestRun')!;
      return [...new Set([...jobs, tr.spec.runner.image, tr.spec.initializer.image, tr.spec.starter.image])].sort();
    };
    // THEN
    expect(images(tagged)).toEqual(['curlimages/curl:8.17.0', 'grafana/k6:1.7.1']);
    expect(images(pinned)).toEqual([`curlimages/curl:8.17.0@${DIGEST}`, `grafana/k6:1.7.1@${DIGEST}`]);
  });
});
