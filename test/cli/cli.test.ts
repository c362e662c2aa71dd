import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EXIT } from '../../cli/exit-codes';
import { runCli, type CliContext } from '../../cli/index';
import type { JudgeRequest } from '../../cli/verdict/judge';
import { bufferOutput, colorsEnabled } from '../../cli/output';
import { cliPackageJson } from '../../cli/version';
import type { PromQuerier } from '../../cli/prometheus/client';
import { newRunId } from '@k6-platform/constructs';
import { LABELS } from '../../constructs/src/contract/labels';
import { cond, NS, oneReady, pending, RUN, runnerJob, runnerPod, running, scriptedCluster, succeeded, type Step } from './scripted-cluster';

const repoRoot = path.resolve(__dirname, '..', '..');
let root: string;

beforeAll(() => {
  // A repository of our own: one environment file with one test, the real scripts/ and dashboards/generated/.
  root = mkdtempSync(path.join(tmpdir(), 'loadtest-cli-'));
  symlinkSync(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'));
  mkdirSync(path.join(root, 'dashboards'));
  symlinkSync(path.join(repoRoot, 'dashboards', 'generated'), path.join(root, 'dashboards', 'generated'));
  writeFileSync(
    path.join(root, 'Pulumi.dev.yaml'),
    'config:\n  k6platform:tests:\n    - name: sample\n      script: sample.js\n      parallelism: 2\n      thresholds:\n        http_req_failed: ["rate<0.01"]\n',
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Prometheus that answers every query with one sample of `value` (or nothing). */
const fakeProm = (value?: number): PromQuerier => ({ query: async () => (value === undefined ? [] : [{ metric: {}, value }]) });

async function cli(argv: string[], extra: Partial<CliContext> = {}) {
  const out = bufferOutput();
  const judged: JudgeRequest[] = [];
  const code = await runCli(argv, {
    out,
    env: {},
    rootDir: root,
    prometheus: () => fakeProm(),
    judge: async (r) => {
      judged.push(r);
      return 0;
    },
    now: () => new Date('2026-11-25T12:00:00Z'),
    ...extra,
  });
  return { code, stdout: out.out.join(''), stderr: out.err.join(''), judged };
}

describe('argument errors', () => {
  test.each([
    [['bogus'], "error: unknown command 'bogus'\n"],
    [['run'], "error: missing required argument 'test'\n"],
    [
      ['run', 'sample', '--prometheus', 'localhost:9090'],
      "error: option '--prometheus <url>' argument 'localhost:9090' is invalid. must be an http(s) URL such as http://localhost:9090.\n",
    ],
    [
      ['run', 'sample', '--run-id', 'Bad_Id'],
      `error: option '--run-id <id>' argument 'Bad_Id' is invalid. must start with a lower-case letter, then lower-case letters, digits and "-", end alphanumeric, at most 50 characters.\n`,
    ],
    [
      ['run', 'sample', '--env', 'Dev'],
      `error: option '--env <name>' argument 'Dev' is invalid. must be an environment name such as "dev" (lower-case letters, digits, "-").\n`,
    ],
    [['verdict'], "error: required option '--testid <id>' not specified\n"],
    [
      ['runs', '--since', 'yesterday'],
      `error: option '--since <duration>' argument 'yesterday' is invalid. must be a Prometheus duration such as "30m", "24h" or "7d".\n`,
    ],
    [['run', 'sample', '--bogus'], "error: unknown option '--bogus'\n"],
  ])('%j fails with exit 2 and: %s', async (argv, message) => {
    // GIVEN / WHEN
    const r = await cli(argv);
    // THEN
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toBe(`${message}(run with --help for usage)\n`);
    expect(r.stdout).toBe('');
  });

  test('an unknown test names the environment and the tests it has', async () => {
    // GIVEN / WHEN
    const r = await cli(['run', 'checkout']);
    // THEN
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toBe("error: unknown test 'checkout' in environment 'dev' (known: sample)\n");
  });

  test('an invalid environment file is reported with the bad key, exit 1', async () => {
    // GIVEN
    writeFileSync(
      path.join(root, 'Pulumi.broken.yaml'),
      'config:\n  k6platform:tests:\n    - name: sample\n      script: sample.js\n      parallelism: 0\n',
    );
    // WHEN
    const r = await cli(['run', 'sample', '--env', 'broken']);
    rmSync(path.join(root, 'Pulumi.broken.yaml'));
    // THEN
    expect(r.code).toBe(EXIT.error);
    expect(r.stderr).toContain("'k6platform:tests[0].parallelism' must be at least 1, got 0");
  });
});

describe('environments', () => {
  test('run --env with no stack file is refused before any cluster is touched', async () => {
    // GIVEN a cluster that records whether it was used
    let connected = false;
    // WHEN
    const r = await cli(['run', 'sample', '--env', 'typo'], {
      connect: async () => {
        connected = true;
        throw new Error('must not connect');
      },
    });
    // THEN a usage error (exit 2, like any bad option), naming the environments there and where it looked
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toBe(
      `error: --env typo: there is no Pulumi.typo.yaml in ${root} (environments there: dev); ` +
        "pick one of those, or run from the repository's root (or pass --root <dir>)\n",
    );
    expect(connected).toBe(false);
  });

  test('synth --env with no stack file: the same usage error, and dist/ is not written', async () => {
    // WHEN
    const r = await cli(['synth', '--env', 'dev', '--env', 'stagign', '--out', 'dist-typo']);
    // THEN
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toBe(
      `error: --env stagign: there is no Pulumi.stagign.yaml in ${root} (environments there: dev); ` +
        "pick one of those, or run from the repository's root (or pass --root <dir>)\n",
    );
    expect(existsSync(path.join(root, 'dist-typo'))).toBe(false);
  });

  test('--root names the repository: its stack files are the ones read', async () => {
    // GIVEN another repository with a qa environment, and a context rooted elsewhere
    const other = mkdtempSync(path.join(tmpdir(), 'loadtest-root-'));
    symlinkSync(path.join(repoRoot, 'scripts'), path.join(other, 'scripts'));
    writeFileSync(
      path.join(other, 'Pulumi.qa.yaml'),
      'config:\n  k6platform:tests:\n    - name: sample\n      script: sample.js\n      thresholds:\n        http_req_duration: ["p(95)<700"]\n',
    );
    try {
      // WHEN verdict --env qa runs without and with --root
      const without = await cli(['verdict', '--testid', 'sample-1', '--env', 'qa']);
      const withRoot = await cli(['--root', other, 'verdict', '--testid', 'sample-1', '--env', 'qa']);
      // THEN only the run with --root finds the environment
      expect(without.code).toBe(EXIT.usage);
      expect(without.stderr).toContain(`--env qa: there is no Pulumi.qa.yaml in ${root} `);
      expect(withRoot.stderr).toBe('');
      expect(withRoot.code).toBe(0);
      // AND the run was judged with the thresholds of that repository's qa stack file
      expect(withRoot.judged.map((j) => [j.test?.name, j.thresholds?.http_req_duration])).toEqual([['sample', ['p(95)<700']]]);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('run refuses an object over the API server size limit before any is applied', async () => {
    // GIVEN a test whose environment holds 1.6 MB (it ends up in the runner Job)
    writeFileSync(
      path.join(root, 'Pulumi.big.yaml'),
      `config:\n  k6platform:tests:\n    - name: sample\n      script: sample.js\n      env:\n        BLOB: ${'x'.repeat(1_600_000)}\n`,
    );
    let connected = false;
    // WHEN
    const r = await cli(['run', 'sample', '--env', 'big', '--run-id', 'sample-big'], {
      connect: async () => {
        connected = true;
        throw new Error('must not connect');
      },
    });
    rmSync(path.join(root, 'Pulumi.big.yaml'));
    // THEN
    expect(r.code).toBe(EXIT.error);
    expect(r.stderr).toMatch(
      /^error: Objects too large for the API server \(1\):\n {2}- big: 'Job\/sample-big-runner' is \d{7} bytes, over the API server's limit of 1572864 bytes \(1\.5 MiB, etcd's request size\) for one object: split it/,
    );
    expect(connected).toBe(false);
  });
});

describe('help and colors', () => {
  test('--help lists the commands, the exit codes and which commands need a cluster', async () => {
    // GIVEN / WHEN
    const r = await cli(['--help']);
    // THEN
    expect(r.code).toBe(EXIT.ok);
    for (const cmd of ['synth [options]', 'run [options] <test>', 'verdict [options]', 'runs [options]']) expect(r.stdout).toContain(cmd);
    expect(r.stdout).toContain(
      "Exit codes: 0 pass, 99 thresholds failed (k6's code), 3 no data for the testid, 4 Prometheus unreachable,\n2 usage errors (arguments, options, their variables), 97 run did not complete, 105 stopped with Ctrl-C, 1 other errors. The same for every command.",
    );
    expect(r.stdout).toContain('Needs a cluster: run (current kube-context).');
  });

  test.each([['--version'], ['-V']])("%s prints the CLI package's version alone and exits 0", async (flag) => {
    // GIVEN the package that ships the CLI, @k6-platform/cli (cli/package.json, its bin the compiled lib/loadtest.js)
    expect(cliPackageJson()).toBe(path.join(repoRoot, 'cli', 'package.json'));
    const pkg = JSON.parse(readFileSync(cliPackageJson(), 'utf8')) as { version: string; bin: { loadtest: string } };
    expect(pkg.bin.loadtest).toBe('lib/loadtest.js');
    // WHEN
    const r = await cli([flag]);
    // THEN
    expect(r).toMatchObject({ code: EXIT.ok, stdout: `${pkg.version}\n`, stderr: '' });
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('run --help documents every option', async () => {
    // GIVEN / WHEN
    const r = await cli(['run', '--help']);
    // THEN
    for (const opt of [
      '--env <name>',
      '--run-id <id>',
      '--prometheus <url>',
      '--grafana <url>',
      '--dashboard <uid>',
      '--context <name>',
      '--split <weights>',
      '--zone <context=name>',
    ])
      expect(r.stdout).toContain(opt);
  });

  test.each([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: '' }, true],
    [true, { FORCE_COLOR: '0' }, false],
    [true, { FORCE_COLOR: 'false' }, false],
    [false, { FORCE_COLOR: '1' }, true],
    [false, { FORCE_COLOR: '3' }, true],
    [false, { FORCE_COLOR: 'true' }, true],
    [false, { FORCE_COLOR: '' }, false],
    [false, { FORCE_COLOR: '1', NO_COLOR: '1' }, true],
    [true, { FORCE_COLOR: '0', NO_COLOR: '' }, false],
  ])('colors with TTY=%s and env %j: %s', (tty, env, expected) => {
    expect(colorsEnabled(tty, env)).toBe(expected);
  });
});

describe('newRunId', () => {
  test('is <test>-<yyyymmdd>-<hhmmss> in UTC, prefixed with r for a leading digit, at most 50 characters', () => {
    const t = new Date('2026-11-25T09:08:07.654Z');
    expect(newRunId('sample', t)).toBe('sample-20261125-090807');
    expect(newRunId('9lives', t)).toBe('r9lives-20261125-090807');
    const long = newRunId('a'.repeat(40), t);
    expect(long).toBe(`${'a'.repeat(34)}-20261125-090807`);
    expect(long.length).toBe(50);
  });
});

describe('run', () => {
  const progress = (vus: number): PromQuerier => ({
    query: async (expr) => [{ metric: {}, value: expr.includes('expected_response="false"') ? 0.02 : expr.startsWith('sum(k6_vus') ? vus : 120 }],
  });

  test('applies the test objects labelled with the run id, follows pending -> running -> succeeded, links Grafana and ends with the verdict code', async () => {
    // GIVEN
    const s = scriptedCluster([pending, oneReady, running, succeeded]);
    // WHEN
    const r = await cli(['run', 'sample', '--run-id', RUN], {
      connect: async () => s.cluster,
      prometheus: () => progress(20),
      judge: async (req) => {
        expect(req.testid).toBe(RUN);
        expect(req.test?.name).toBe('sample');
        return 99;
      },
      sleep: s.advance,
    });
    // THEN the verdict's code is the exit code
    expect(r.code).toBe(99);
    expect(s.applied.length).toBeGreaterThan(0);
    for (const o of s.applied) {
      expect(o.metadata.labels?.[LABELS.test]).toBe('sample');
      expect(o.metadata.namespace).toBe(NS);
    }
    // AND one progress line per change of state (no TTY), with the metrics
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`run ${RUN}: test sample, 2 runner(s), namespace k6, scripted`);
    expect(lines.filter((l) => l.startsWith('runners '))).toEqual([
      'runners 0/2 ready, 0 running, 0 done, 0 failed | waiting to start | 20 VUs | 120 req/s | 2% errors | 0s since applied',
      'runners 1/2 ready, 0 running, 0 done, 0 failed | waiting to start | 20 VUs | 120 req/s | 2% errors | 0s since applied',
      'runners 2/2 ready, 2 running, 0 done, 0 failed | started | 20 VUs | 120 req/s | 2% errors | 0s',
      'runners 0/2 ready, 0 running, 2 done, 0 failed | started | 20 VUs | 120 req/s | 2% errors | 0s',
    ]);
    expect(r.stdout).toContain(
      `grafana: http://localhost:3000/d/k6-load-test?var-testid=${RUN}&from=1795607940000&to=now (after: kubectl -n monitoring port-forward svc/kube-prometheus-stack-grafana 3000:80)\n`,
    );
    expect(r.stdout).toContain('finished: 2 of 2 runners finished\n');
  });

  test('without a TTY the progress is plain lines: each change of state, and every 30 s in between, with time since the start of the declared duration', async () => {
    // GIVEN a test declaring 1m, a cluster that keeps the run going for five polls, and a clock 10 s further each poll
    writeFileSync(
      path.join(root, 'Pulumi.timed.yaml'),
      'config:\n  k6platform:tests:\n    - name: sample\n      script: sample.js\n      parallelism: 2\n      duration: 1m\n      thresholds:\n        http_req_failed: ["rate<0.01"]\n',
    );
    const s = scriptedCluster([pending, running, running, running, running, running, succeeded]);
    let t = Date.parse('2026-11-25T12:00:00Z');
    // WHEN
    const r = await cli(['run', 'sample', '--env', 'timed', '--run-id', RUN], {
      connect: async () => s.cluster,
      prometheus: () => progress(20),
      judge: async () => 0,
      now: () => new Date(t),
      sleep: async () => {
        t += 10_000;
        await s.advance();
      },
    });
    // THEN the state changes at 0 s, 10 s (started) and 60 s (done), and one repeat 30 s after the last line
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('runners '))).toEqual([
      'runners 0/2 ready, 0 running, 0 done, 0 failed | waiting to start | 20 VUs | 120 req/s | 2% errors | 0s since applied',
      'runners 2/2 ready, 2 running, 0 done, 0 failed | started | 20 VUs | 120 req/s | 2% errors | 0s / 1m00s',
      'runners 2/2 ready, 2 running, 0 done, 0 failed | started | 20 VUs | 120 req/s | 2% errors | 30s / 1m00s',
      'runners 0/2 ready, 0 running, 2 done, 0 failed | started | 20 VUs | 120 req/s | 2% errors | 50s / 1m00s',
    ]);
  });

  test('--grafana and --dashboard override the link', async () => {
    // GIVEN
    const s = scriptedCluster([succeeded]);
    // WHEN
    const r = await cli(['run', 'sample', '--run-id', RUN, '--grafana', 'https://grafana.example.com/', '--dashboard', 'k6-load-test-classic'], {
      connect: async () => s.cluster,
      sleep: s.advance,
    });
    // THEN
    expect(r.stdout).toContain(`grafana: https://grafana.example.com/d/k6-load-test-classic?var-testid=${RUN}&from=1795607940000&to=now\n`);
  });

  test('a failed runner makes the run INCONCLUSIVE: judged over what it wrote, the failure a validity reason, exit 5', async () => {
    // GIVEN runner 0 ended by a script exception (k6 exit 107)
    const failed: Step = {
      jobs: [runnerJob({ failed: 1, conditions: [cond('Failed', 'PodFailurePolicy', 'exit code 107')] })],
      pods: [runnerPod(0, 'Failed', { exitCode: 107, starter: { exitCode: 0 } })],
    };
    const judgeAs = (code: number) => {
      const judged: JudgeRequest[] = [];
      return { judged, judge: async (r: JudgeRequest) => (judged.push(r), code) };
    };
    const inconclusive = judgeAs(5);
    const s = scriptedCluster([running, failed]);
    // WHEN
    const r = await cli(['run', 'sample', '--run-id', RUN], { connect: async () => s.cluster, sleep: s.advance, judge: inconclusive.judge });
    // THEN the failure is printed with how to inspect it, and the verdict gets the pod's own account as a reason
    expect(r.stdout).toContain(
      `runner-failed: runner Job failed: PodFailurePolicy (exit code 107); runner 0 (${RUN}-runner-0-x): k6 exited 107 (script exception)\n`,
    );
    expect(r.stdout).toContain(`inspect: kubectl -n k6 get jobs,pods -l k6.platform/run-id=${RUN}\n`);
    expect(inconclusive.judged.map((j) => [j.testid, j.validity?.runnerFailures, j.validity?.plannedRunners])).toEqual([
      [RUN, [`runner 0 (${RUN}-runner-0-x): k6 exited 107 (script exception)`], 2],
    ]);
    expect(r.code).toBe(5);
    // AND a run that left nothing to judge (no data: exit 3) stays a failed run
    const noData = judgeAs(3);
    const again = scriptedCluster([running, failed]);
    const r2 = await cli(['run', 'sample', '--run-id', RUN], { connect: async () => again.cluster, sleep: again.advance, judge: noData.judge });
    expect(noData.judged).toHaveLength(1);
    expect(r2.code).toBe(EXIT.runFailed);
  });

  test('with validity off, a failed runner exits 97 without judging', async () => {
    // GIVEN a stack whose test turns validity off
    const dir = mkdtempSync(path.join(tmpdir(), 'loadtest-novalidity-'));
    symlinkSync(path.join(root, 'scripts'), path.join(dir, 'scripts'));
    writeFileSync(
      path.join(dir, 'Pulumi.dev.yaml'),
      'config:\n  k6platform:tests:\n    - name: sample\n      script: sample.js\n      parallelism: 2\n      validity: { enabled: false }\n',
    );
    const failed: Step = {
      jobs: [runnerJob({ failed: 1, conditions: [cond('Failed', 'PodFailurePolicy', 'exit code 107')] })],
      pods: [runnerPod(0, 'Failed', { exitCode: 107, starter: { exitCode: 0 } })],
    };
    const s = scriptedCluster([running, failed]);
    try {
      // WHEN
      const r = await cli(['run', 'sample', '--run-id', RUN], { connect: async () => s.cluster, sleep: s.advance, rootDir: dir });
      // THEN
      expect(r.code).toBe(EXIT.runFailed);
      expect(r.judged).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a deadline exceeded exits 97', async () => {
    // GIVEN
    const s = scriptedCluster([running, { jobs: [runnerJob({ conditions: [cond('Failed', 'DeadlineExceeded', 'too long')] })], pods: [] }]);
    // WHEN
    const r = await cli(['run', 'sample', '--run-id', RUN], { connect: async () => s.cluster, sleep: s.advance });
    // THEN
    expect(r.code).toBe(EXIT.runFailed);
    expect(r.stdout).toContain('deadline-exceeded: runners exceeded their deadline: too long\n');
  });

  test("Ctrl-C applies the run's stop Job, deletes the Jobs once the runners ended, and exits 105 with the verdict command to run later", async () => {
    // GIVEN
    const ctrlC = new AbortController();
    const ended: Step = { jobs: [runnerJob({ failed: 2, conditions: [cond('Failed', 'PodFailurePolicy', 'exit code 103')] })], pods: [] };
    const s = scriptedCluster([pending, { ...running, after: () => ctrlC.abort() }, ended]);
    // WHEN
    const r = await cli(['run', 'sample', '--run-id', RUN], { connect: async () => s.cluster, sleep: s.advance, signal: ctrlC.signal });
    // THEN
    expect(r.code).toBe(EXIT.interrupted);
    const writes = s.calls.filter((c) => !c.startsWith('list'));
    expect(writes).toHaveLength(3);
    expect(writes[0]).toMatch(/^apply ServiceAccount\/.* Job\/sample-20261125-120000-runner$/);
    expect(writes.slice(1)).toEqual([`apply Job/${RUN}-stop`, `deleteJobs k6 ${LABELS.runId}=${RUN}`]);
    // AND the stop Job is the construct's: the stop script against every runner, labelled as the runners' policy admits
    const stop = s.applied.at(-1)!;
    expect(stop.metadata.labels?.[LABELS.component]).toBe('stopper');
    const container = (stop.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]!;
    expect(container.args).toEqual(['--stop', `http://${RUN}-runner-0.${RUN}.k6.svc:6565`, `http://${RUN}-runner-1.${RUN}.k6.svc:6565`]);
    expect(r.stdout).toContain(`judge what ran so far: loadtest verdict --testid ${RUN} --env dev\n`);
  });

  test('a failing apply exits 1 with the API message and follows nothing', async () => {
    // GIVEN
    const s = scriptedCluster([running]);
    const cluster = { ...s.cluster, apply: async () => Promise.reject(new Error('loadtest: applying Job/x failed: forbidden')) };
    // WHEN
    const r = await cli(['run', 'sample', '--run-id', RUN], { connect: async () => cluster, sleep: s.advance });
    // THEN
    expect(r.code).toBe(EXIT.error);
    expect(r.stderr).toBe('error: loadtest: applying Job/x failed: forbidden\n');
    expect(s.calls).toEqual([]);
  });
});

describe('verdict and runs', () => {
  test('verdict passes the testid, the Prometheus URL and the test derived from the testid to the verdict', async () => {
    // GIVEN / WHEN
    const r = await cli(['verdict', '--testid', 'sample-20261125-120000', '--prometheus', 'http://prom.example:9090/']);
    // THEN
    expect(r.code).toBe(0);
    expect(r.judged.map((j) => [j.testid, j.prometheusUrl, j.test?.name, j.trends])).toEqual([
      ['sample-20261125-120000', 'http://prom.example:9090', 'sample', 'native'],
    ]);
  });

  test('an environment whose runners write classic trend stats gets a classic verdict', async () => {
    // GIVEN
    writeFileSync(path.join(root, 'Pulumi.classic.yaml'), 'config:\n  k6platform:runner:\n    nativeHistograms: false\n');
    // WHEN
    const r = await cli(['verdict', '--testid', 'sample-1', '--env', 'classic']);
    rmSync(path.join(root, 'Pulumi.classic.yaml'));
    // THEN
    expect(r.judged.map((j) => j.trends)).toEqual(['classic']);
  });

  test("a test without config thresholds is judged by its script's own thresholds (verdict and run), never a vacuous pass", async () => {
    // GIVEN an environment whose smoke test declares no thresholds; scripts/smoke.js exports options.thresholds
    writeFileSync(path.join(root, 'Pulumi.smoke.yaml'), 'config:\n  k6platform:tests:\n    - name: smoke\n      script: smoke.js\n');
    try {
      // WHEN
      const verdict = await cli(['verdict', '--testid', 'smoke-20261125-120000', '--env', 'smoke']);
      const s = scriptedCluster([succeeded]);
      const run = await cli(['run', 'smoke', '--env', 'smoke', '--run-id', 'smoke-20261125-120000'], {
        connect: async () => s.cluster,
        sleep: s.advance,
      });
      // THEN both judge the script's thresholds
      const expected = { http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] };
      expect(verdict.judged.map((j) => j.thresholds)).toEqual([expected]);
      expect(run.judged.map((j) => j.thresholds)).toEqual([expected]);
    } finally {
      rmSync(path.join(root, 'Pulumi.smoke.yaml'));
    }
  });

  test('an invalid LOADTEST_PROMETHEUS_URL is a usage error, quoted without its credentials', async () => {
    const r = await cli(['verdict', '--testid', 'x1'], { env: { LOADTEST_PROMETHEUS_URL: 'u:s3cret@prom:9090' } });
    expect(r).toMatchObject({
      code: EXIT.usage,
      stdout: '',
      stderr: 'error: $LOADTEST_PROMETHEUS_URL must be an http(s) URL such as http://localhost:9090. Got "***@prom:9090".\n',
    });
    expect(r.stderr).not.toContain('s3cret');
  });

  test('verdict falls back to LOADTEST_PROMETHEUS_URL, then localhost:9090', async () => {
    const viaEnv = await cli(['verdict', '--testid', 'x1'], { env: { LOADTEST_PROMETHEUS_URL: 'http://p:9090' } });
    const fallback = await cli(['verdict', '--testid', 'x1']);
    expect(viaEnv.judged[0]?.prometheusUrl).toBe('http://p:9090');
    expect(fallback.judged[0]?.prometheusUrl).toBe('http://localhost:9090');
    expect(fallback.judged[0]?.test).toBeUndefined();
  });

  test('runs prints one row per run with the verdict of tests that have thresholds', async () => {
    // GIVEN two runs: one of the configured test, one unknown
    const t0 = Date.parse('2026-11-25T11:00:00Z') / 1000;
    const prom: PromQuerier = {
      query: async (expr) => {
        const rows = [
          { testid: 'sample-20261125-110000', start: t0, end: t0 + 125, runners: 2 },
          { testid: 'other-1', start: t0 - 3600, end: t0 - 3000, runners: 4 },
        ];
        if (expr.startsWith('min by')) return rows.map((x) => ({ metric: { testid: x.testid }, value: x.start }));
        if (expr.startsWith('max by (testid) (max_over_time')) return rows.map((x) => ({ metric: { testid: x.testid }, value: x.end }));
        if (expr.startsWith('max by (testid) (timestamp')) return [];
        if (expr.startsWith('count by')) return rows.map((x) => ({ metric: { testid: x.testid }, value: x.runners }));
        // group by (testid, test): the sample run carries its test label, the other one none
        return rows.map((x) => ({ metric: { testid: x.testid, ...(x.testid.startsWith('sample-') ? { test: 'sample' } : {}) }, value: 1 }));
      },
    };
    // WHEN
    const r = await cli(['runs'], { prometheus: () => prom, judge: async () => 99 });
    // THEN
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'TESTID                  TEST    START (UTC)           DURATION  RUNNERS  VERDICT',
        '----------------------  ------  --------------------  --------  -------  -------',
        'sample-20261125-110000  sample  2026-11-25T11:00:00Z  2m05s     2        fail',
        'other-1                 ?       2026-11-25T10:00:00Z  10m00s    4        -',
        '',
      ].join('\n'),
    );
  });

  test('runs marks a test matched by the run-id prefix, a run with two test labels, and a run that never started', async () => {
    // GIVEN an untagged run of sample, a run with two test labels, and a run still in its paused phase
    const t0 = Date.parse('2026-11-25T11:00:00Z') / 1000;
    const rows = [
      { testid: 'sample-20261125-110000', start: t0, labels: [undefined] },
      { testid: 'mixed-1', start: t0 - 600, labels: ['sample', 'other'] },
      { testid: 'sample-20261125-100000', start: t0 - 3600, labels: ['sample'], paused: true },
    ];
    const prom: PromQuerier = {
      query: async (expr) => {
        if (expr.startsWith('min by (testid) (min_over_time(timestamp(k6_vus'))
          return rows.map((x) => ({ metric: { testid: x.testid }, value: x.start }));
        if (expr.startsWith('min by')) return rows.filter((x) => x.paused !== true).map((x) => ({ metric: { testid: x.testid }, value: x.start }));
        if (expr.startsWith('max by (testid) (max_over_time')) return rows.map((x) => ({ metric: { testid: x.testid }, value: x.start + 60 }));
        if (expr.startsWith('group by (testid, test)'))
          return rows.flatMap((x) => x.labels.map((test) => ({ metric: { testid: x.testid, ...(test !== undefined ? { test } : {}) }, value: 1 })));
        return [];
      },
    };
    // WHEN
    const judged: string[] = [];
    const r = await cli(['runs'], {
      prometheus: () => prom,
      judge: async (req) => {
        judged.push(req.testid);
        return 0;
      },
    });
    // THEN
    expect(r.stdout).toBe(
      [
        'TESTID                  TEST      START (UTC)           DURATION  RUNNERS  VERDICT',
        '----------------------  --------  --------------------  --------  -------  -----------',
        'sample-20261125-110000  sample*   2026-11-25T11:00:00Z  1m00s     1        pass',
        'mixed-1                 conflict  2026-11-25T10:50:00Z  1m00s     1        -',
        'sample-20261125-100000  sample    2026-11-25T10:00:00Z  1m00s     1        not started',
        '* no test label on the run (written before runners were tagged): test matched by the longest test name prefixing the testid',
        'conflict: the run carries more than one test label; judge it with loadtest verdict --testid <id> --test <name>',
        '',
      ].join('\n'),
    );
    expect(judged).toEqual(['sample-20261125-110000']);
  });

  test('runs with no data says so', async () => {
    const r = await cli(['runs', '--since', '1h', '--prometheus', 'http://p:9090']);
    expect(r.stdout).toBe('no runs in the last 1h at http://p:9090\n');
  });
});

describe('synth', () => {
  test('writes the environment to --out and lists the files', async () => {
    // GIVEN
    const out = path.join(root, 'out');
    // WHEN
    const r = await cli(['synth', '--env', 'dev', '--out', out]);
    // THEN
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^✓ dev: \d+ objects -> /);
    expect(r.stdout).toContain('    dev/platform/kube-prometheus-stack.values.yaml\n');
    expect(r.stdout).toContain('    dev/runs/sample.k8s.yaml\n');
    expect(existsSync(path.join(out, 'dev', 'platform', 'kube-prometheus-stack.values.yaml'))).toBe(true);
    // and the one chart beside the environments
    expect(r.stdout).toContain(`✓ helm chart of every environment -> ${path.relative(process.cwd(), path.join(out, 'chart'))}\n`);
    expect(existsSync(path.join(out, 'chart', 'values-dev.yaml'))).toBe(true);
  });

  test('--out a directory that is not synth output (the repository itself) is refused and nothing is deleted', async () => {
    // GIVEN
    const before = readdirSync(root).sort();
    // WHEN
    const r = await cli(['synth', '--env', 'dev', '--out', '.']);
    // THEN
    expect(r.code).toBe(EXIT.error);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: synth: refusing to replace ${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it is a directory with \\d+ entries \\(.*\\) and no synth marker\\. Synth replaces only its own output \\(a directory holding \\.k6-platform-synth\\); choose a new or empty directory with --out\n$`,
      ),
    );
    expect(readdirSync(root).sort()).toEqual(before);
  });

  test('--out a previous synth output replaces it', async () => {
    // GIVEN
    const out = path.join(root, 'out-again');
    expect((await cli(['synth', '--env', 'dev', '--out', out])).code).toBe(EXIT.ok);
    // WHEN
    const r = await cli(['synth', '--env', 'dev', '--out', out]);
    // THEN
    expect(r.code).toBe(EXIT.ok);
    expect(existsSync(path.join(out, 'dev', 'platform', 'kube-prometheus-stack.values.yaml'))).toBe(true);
  });
});
