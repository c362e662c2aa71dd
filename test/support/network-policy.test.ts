import { admitted, evaluate, selectorMatches } from './network-policy';

const np = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace, name },
  spec,
});
const web = { namespace: 'app', labels: { app: 'web' } };
const db = { namespace: 'app', labels: { app: 'db' }, namedPorts: { pg: 5432 } };
const other = { namespace: 'other', labels: { app: 'web' } };

describe('NetworkPolicy evaluator (Kubernetes semantics)', () => {
  test('a pod no policy selects is not isolated; once selected for a type only the rules let traffic in', () => {
    // GIVEN nothing, then a policy selecting db for ingress with no rules
    const deny = np('app', 'deny', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] });
    // THEN
    expect(admitted([], web, db, 5432)).toBe(true);
    expect(admitted([deny], web, db, 5432)).toBe(false);
    // AND egress of web is untouched (the policy is about ingress, and does not select web)
    expect(admitted([deny], web, { ip: '203.0.113.1' }, 443)).toBe(true);
  });

  test('policyTypes defaults to Ingress, plus Egress when the policy has egress rules', () => {
    const ingressOnly = np('app', 'i', { podSelector: {} });
    const withEgress = np('app', 'e', { podSelector: {}, egress: [] });
    expect(admitted([ingressOnly], web, { ip: '203.0.113.1' }, 443)).toBe(true);
    expect(admitted([withEgress], web, { ip: '203.0.113.1' }, 443)).toBe(false);
  });

  test('policies are additive: any rule of any selecting policy allows', () => {
    const deny = np('app', 'deny', { podSelector: {}, policyTypes: ['Ingress'] });
    const allowWeb = np('app', 'web-to-db', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'pg', protocol: 'TCP' }] }],
    });
    expect(evaluate([deny, allowWeb], web, db, 5432)).toEqual({ allowed: true, egress: 'not isolated', ingress: 'allowed by app/web-to-db' });
    expect(admitted([deny, allowWeb], web, db, 5433)).toBe(false);
    expect(admitted([deny, allowWeb], web, db, 5432, 'UDP')).toBe(false);
    // a podSelector alone means the policy's own namespace
    expect(admitted([deny, allowWeb], other, db, 5432)).toBe(false);
  });

  test('namespaceSelector and podSelector in ONE peer are ANDed; as two peers they are ORed', () => {
    const and = np('app', 'and', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } }, podSelector: { matchLabels: { app: 'job' } } }] },
      ],
    });
    const or = np('app', 'or', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } } },
            { podSelector: { matchLabels: { app: 'job' } } },
          ],
        },
      ],
    });
    const job = { namespace: 'other', labels: { app: 'job' } };
    expect(admitted([and], job, db, 1)).toBe(true);
    expect(admitted([and], other, db, 1)).toBe(false);
    expect(admitted([and], { namespace: 'app', labels: { app: 'job' } }, db, 1)).toBe(false);
    expect(admitted([or], other, db, 1)).toBe(true);
    expect(admitted([or], { namespace: 'app', labels: { app: 'job' } }, db, 1)).toBe(true);
    // an empty namespaceSelector selects every namespace
    const any = np('app', 'any', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] });
    expect(admitted([any], { namespace: 'x', labels: {} }, db, 1)).toBe(true);
    expect(admitted([any], { ip: '203.0.113.1' }, db, 1)).toBe(false);
  });

  test('ipBlock: inside cidr and outside every except; IPv4 and IPv6 apart; endPort ranges', () => {
    const egress = np('app', 'out', {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '169.254.0.0/16'] } }],
          ports: [{ port: 8000, endPort: 8100, protocol: 'TCP' }],
        },
      ],
    });
    expect(admitted([egress], web, { ip: '203.0.113.9' }, 8080)).toBe(true);
    expect(admitted([egress], web, { ip: '203.0.113.9' }, 8101)).toBe(false);
    expect(admitted([egress], web, { ip: '169.254.169.254' }, 8080)).toBe(false);
    expect(admitted([egress], web, { ip: '10.1.2.3' }, 8080)).toBe(false);
    expect(admitted([egress], web, { ip: '2001:db8::1' }, 8080)).toBe(false);
  });

  test('both ends must allow: the source egress and the destination ingress', () => {
    const webOut = np('app', 'web-out', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [] });
    expect(evaluate([webOut], web, db, 5432)).toEqual({ allowed: false, egress: 'denied', ingress: 'not isolated' });
  });

  test('label selectors: matchLabels and matchExpressions', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'x', operator: 'Exists' }] }, labels)).toBe(false);
  });
});
