import { Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import {
  ALWAYS_EXCLUDED_CIDRS,
  DEFAULT_CLUSTER_CIDRS,
  dnsEgressRule,
  exceptProblem,
  excludedCidrProblem,
  isCanonicalCidr,
  ipBlock,
  ipBlockPeers,
  publicIpv4,
} from '../src/network/network-rules';
import { parsePlatformConfig } from '../src/config/platform-config';
import { PUBLIC_IPV4, RunnerImage } from '../src/runner-image/runner-image';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('network rules', () => {
  test('DNS: the cluster DNS pods only, on 53 UDP and TCP; configurable', () => {
    // WHEN
    const rule = k8s.toJson_NetworkPolicyEgressRule(dnsEgressRule());
    const custom = k8s.toJson_NetworkPolicyEgressRule(dnsEgressRule({ dns: { namespace: 'dns', podLabels: { app: 'coredns' } } }));
    // THEN
    expect(rule).toEqual({
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
    });
    expect(custom?.to).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dns' } }, podSelector: { matchLabels: { app: 'coredns' } } },
    ]);
  });

  test('defaults: link-local and loopback always excluded; private, shared and unique-local ranges are the cluster ranges', () => {
    expect(ALWAYS_EXCLUDED_CIDRS).toEqual(['169.254.0.0/16', 'fe80::/10', '127.0.0.0/8', '::1/128']);
    expect(DEFAULT_CLUSTER_CIDRS).toEqual(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7']);
  });

  test('an except lies strictly inside its cidr and in the same family (NetworkPolicy IPBlock rule)', () => {
    // kubernetes/kubernetes pkg/apis/networking/validation/validation.go (ValidateIPBlock): each except "must be a strict
    // subset of `cidr`" (inside it, with a longer prefix); an IPv6 except can never lie inside an IPv4 cidr.
    // anywhere, IPv4: every excluded IPv4 range, no IPv6 one
    expect(publicIpv4()).toEqual({
      cidr: '0.0.0.0/0',
      except: ['10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'],
    });
    expect(ipBlock('::/0')).toEqual({ cidr: '::/0', except: ['::1/128', 'fc00::/7', 'fe80::/10'] });
    // a block that contains only part of the excluded ranges gets only those
    expect(ipBlock('128.0.0.0/1')).toEqual({ cidr: '128.0.0.0/1', except: ['169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'] });
    // a block disjoint from every excluded range, or inside (= naming) a cluster range, gets none
    expect(ipBlock('203.0.113.0/24')).toEqual({ cidr: '203.0.113.0/24' });
    expect(ipBlock('10.0.0.0/8')).toEqual({ cidr: '10.0.0.0/8' });
    expect(ipBlock('10.20.30.40/32')).toEqual({ cidr: '10.20.30.40/32' });
    // a wider block leaves out the cluster and link-local ranges inside it
    expect(ipBlock('fc00::/6')).toEqual({ cidr: 'fc00::/6', except: ['fc00::/7', 'fe80::/10'] });
  });

  test("the caller's excepts come first and repeats are dropped; custom cluster ranges replace the defaults", () => {
    expect(ipBlock('0.0.0.0/0', ['10.0.0.0/8', '198.51.100.0/24'], { clusterCidrs: ['10.0.0.0/8'] })).toEqual({
      cidr: '0.0.0.0/0',
      except: ['10.0.0.0/8', '198.51.100.0/24', '127.0.0.0/8', '169.254.0.0/16'],
    });
    expect(ipBlockPeers(['0.0.0.0/0'], { clusterCidrs: ['192.168.0.0/16'] })).toEqual([
      { ipBlock: { cidr: '0.0.0.0/0', except: ['127.0.0.0/8', '169.254.0.0/16', '192.168.0.0/16'] } },
    ]);
  });

  test('a block inside a link-local or loopback range is refused', () => {
    expect(excludedCidrProblem('169.254.169.254/32')).toBe(
      'must not lie inside 169.254.0.0/16 (link-local and loopback addresses, among them the cloud metadata service 169.254.169.254, are never reachable)',
    );
    expect(excludedCidrProblem('fe80::1/128')).toMatch(/^must not lie inside fe80::\/10 /);
    expect(excludedCidrProblem('0.0.0.0/0')).toBeUndefined();
    expect(() => ipBlock('169.254.169.254/32')).toThrow('NetworkRules: IP block "169.254.169.254/32" must not lie inside 169.254.0.0/16');
  });

  test('one rule set: the runner-image build uses the same DNS rule and public range as the runners', () => {
    // GIVEN an in-cluster build
    const chart = new Chart(Testing.app(), 'b');
    new RunnerImage(chart, 'Image', {
      extensions: [{ module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' }],
      registry: 'registry.example.com',
      repository: 'team/k6',
      pushSecret: { name: 'push' },
      egress: { registryCidrs: ['0.0.0.0/0'] },
      network: { dns: { namespace: 'dns', podLabels: { app: 'coredns' } }, clusterCidrs: ['10.0.0.0/8'] },
    });
    // THEN
    const np = (Testing.synth(chart) as Obj[]).find((o) => o.kind === 'NetworkPolicy')!;
    expect(np.spec.egress[0]).toEqual(
      k8s.toJson_NetworkPolicyEgressRule(dnsEgressRule({ dns: { namespace: 'dns', podLabels: { app: 'coredns' } } })),
    );
    expect(np.spec.egress[1].to).toEqual([{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16'] } }]);
    expect(np.spec.egress[2].to).toEqual([{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16'] } }]);
    expect(PUBLIC_IPV4).toEqual(publicIpv4());
  });
});

describe('CIDRs as the API server reads them', () => {
  // Kubernetes validates ipBlock CIDRs with k8s.io/utils/net ParseCIDRSloppy (Go net.ParseCIDR, with leading zeros
  // read as decimal), pkg/apis/networking/validation/validation.go; ipaddr.js accepts more forms and reads some of
  // them differently, so the platform accepts only the forms both read alike.
  test.each([
    ['203.0.113.0/24', true],
    ['0.0.0.0/0', true],
    ['2001:db8::/32', true],
    ['::/0', true],
    ['10/8', false],
    ['1.2.3/24', false],
    ['0x0a.0.0.0/8', false],
    ['012.0.0.0/8', false],
    ['167772160/8', false],
    ['10.0.0.0/08', false],
    ['10.0.0.0/33', false],
    ['fe80::1%eth0/64', false],
    ['::ffff:169.254.169.254/128', false],
    ['10.0.0.1', false],
  ])('%s: %s', (cidr, ok) => {
    expect(isCanonicalCidr(cidr)).toBe(ok);
  });

  test('an except must lie strictly inside its cidr, in the same family', () => {
    expect(exceptProblem('203.0.113.0/24', '203.0.113.7/32')).toBeUndefined();
    expect(exceptProblem('203.0.113.0/24', '10.0.0.0/8')).toBe(
      'must lie strictly inside its cidr 203.0.113.0/24 (same address family, a longer prefix)',
    );
    expect(exceptProblem('203.0.113.0/24', '203.0.113.0/24')).toBe(
      'must lie strictly inside its cidr 203.0.113.0/24 (same address family, a longer prefix)',
    );
    expect(exceptProblem('0.0.0.0/0', '2001:db8::/32')).toBe('must lie strictly inside its cidr 0.0.0.0/0 (same address family, a longer prefix)');
  });

  test('the config refuses an except outside its cidr, an except without cidr, and pod labels that are not labels', () => {
    const problems = (targets: unknown[]) => {
      try {
        parsePlatformConfig({ tests: [{ name: 't', script: 'sample.js', targets }] });
        return [];
      } catch (e) {
        return (e as Error).message.split('\n').slice(1);
      }
    };
    expect(problems([{ cidr: '203.0.113.0/24', except: ['10.0.0.0/8'], ports: [443] }])).toEqual([
      `  - 'tests[0].targets[0].except[0]' must lie strictly inside its cidr 203.0.113.0/24 (same address family, a longer prefix), got "10.0.0.0/8"`,
    ]);
    expect(problems([{ namespace: 'shop', except: ['10.0.0.0/8'], ports: [443] }])).toEqual([
      `  - 'tests[0].targets[0].except' needs "cidr": it leaves parts of an IP block out, got ["10.0.0.0/8"]`,
    ]);
    expect(problems([{ namespace: 'shop', podLabels: { 'bad key!': 'x' }, ports: [443] }])[0]).toMatch(
      /^ {2}- 'tests\[0\]\.targets\[0\]\.podLabels\.bad key!' must be a label key/,
    );
  });
});
