import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { starterCommand, starterScript, STARTER_MOUNT_PATH, STARTER_SCRIPT_KEY } from '../src/k6/starter';
import { fakeRunner, runStarterScript, type StarterResult } from '../../test/support/fake-k6-runner';

/**
 * A process standing for runner 0's k6 in the shared process namespace: a `sleep` started under a unique name (the
 * kernel names a process after the file it executes), so the starter finds it in /proc by that name.
 */
let fakeK6Count = 0;
function fakeK6Process(): { name: string; exited: Promise<{ signal: NodeJS.Signals | null; at: number }> } {
  // Unique per test process (pid) and per call (a counter: random suffixes collided now and then, EEXIST).
  const name = `k6f${process.pid % 100000}n${++fakeK6Count}`.slice(0, 15);
  const link = path.join(dir, name);
  symlinkSync(execFileSync('sh', ['-c', 'command -v sleep']).toString().trim(), link);
  const child = spawn(link, ['300'], { stdio: 'ignore' });
  const exited = new Promise<{ signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (_code, signal) => resolve({ signal, at: Date.now() })),
  );
  return { name, exited };
}

let dir: string;
let script: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'k6-starter-'));
  script = path.join(dir, STARTER_SCRIPT_KEY);
  writeFileSync(script, starterScript());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runStarter = (urls: string[], env: Record<string, string>): Promise<StarterResult> => runStarterScript(script, dir, urls, env);

describe('starter script', () => {
  test('resumes all runners together, only after the last one is ready', async () => {
    // GIVEN four runners, two ready at once and two becoming ready late
    const t0 = Date.now();
    const runners = await Promise.all([0, 0, 1200, 2200].map((ms) => fakeRunner(ms, t0)));
    try {
      // WHEN the starter runs against them (as runner 0's companion in a scheduled run would)
      const result = await runStarter(
        runners.map((r) => r.url),
        { START_TIMEOUT_SECONDS: '20', POLL_INTERVAL_SECONDS: '0.2', RUNNER_INDEX: '0' },
      );

      // THEN it succeeds, every runner was resumed exactly once and none before the last became ready
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^starter: all 4 runners ready after \d+s\nstarter: resumed 4 runners\n$/);
      expect(result.started).toBe(true);
      const lastReady = Math.max(...runners.map((r) => r.readyAt!));
      for (const r of runners) {
        expect(r.resumedAt).toHaveLength(1);
        expect(r.resumedAt[0]!).toBeGreaterThanOrEqual(lastReady);
        expect(r.stoppedAt).toEqual([]);
      }
      // AND the resume requests went out together (concurrently): their spread is far below the late runner's delay
      const times = runners.map((r) => r.resumedAt[0]!);
      expect(Math.max(...times) - Math.min(...times)).toBeLessThan(500);
      // AND the late runners were polled more than once (the starter waited for them)
      expect(runners[3]!.polls.length).toBeGreaterThan(1);
    } finally {
      await Promise.all(runners.map((r) => r.close()));
    }
  });

  test('fails with a clear message naming the missing runner when one never gets ready, and stops every runner', async () => {
    // GIVEN three runners, one of which never becomes ready
    const t0 = Date.now();
    const runners = await Promise.all([0, 300, undefined].map((ms) => fakeRunner(ms, t0)));
    try {
      // WHEN the starter runs with a 2 s timeout
      const result = await runStarter(
        runners.map((r) => r.url),
        { START_TIMEOUT_SECONDS: '2', POLL_INTERVAL_SECONDS: '0.2' },
      );

      // THEN it fails, names the runner that was not ready, resumes nobody and stops every runner: the starter's own
      // exit ends nothing while k6 runs beside it (a pod fails only once all its containers ended), the runners' exits
      // (k6 103 after a REST stop) do, through the pod failure policy
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`starter: FAILED: 1 of 3 runners not ready after 2s: ${runners[2]!.url}\n`);
      for (const r of runners) expect(r.resumedAt).toEqual([]);
      expect(result.terminationMessage).toBe(`1 of 3 runners not ready after 2s: ${runners[2]!.url}\n`);
      expect(result.started).toBe(false);
      for (const r of runners) expect(r.stoppedAt).toHaveLength(1);
    } finally {
      await Promise.all(runners.map((r) => r.close()));
    }
  });

  test('treats an unreachable runner as not ready', async () => {
    // GIVEN one live runner and a URL where nothing listens
    const t0 = Date.now();
    const live = await fakeRunner(0, t0);
    const dead = await fakeRunner(0, t0);
    const deadUrl = dead.url;
    await dead.close();
    try {
      // WHEN the starter runs with a 1 s timeout
      const result = await runStarter([live.url, deadUrl], { START_TIMEOUT_SECONDS: '1', POLL_INTERVAL_SECONDS: '0.2' });

      // THEN it fails naming the unreachable runner
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`starter: FAILED: 1 of 2 runners not ready after 1s: ${deadUrl}\n`);
      expect(live.resumedAt).toEqual([]);
    } finally {
      await live.close();
    }
  });

  test('a runner stopped before the start (the stop Job during start-up) ends the start at once, stopping the others', async () => {
    // GIVEN two runners, the second stopped while still initialising (k6 then reports status 10, Interrupted). It keeps
    // answering: a fake that exits 100 ms after the stop would leave the outcome to whether the starter's first poll
    // comes before that (on a loaded machine it does not, and a runner that does not answer is "not ready yet").
    const t0 = Date.now();
    const runners = await Promise.all([0, 5000].map((ms) => fakeRunner(ms, t0, { linger: true })));
    await fetch(`${runners[1]!.url}/v1/status`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: { type: 'status', id: 'default', attributes: { stopped: true } } }),
    });
    try {
      // WHEN
      const result = await runStarter(
        runners.map((r) => r.url),
        { START_TIMEOUT_SECONDS: '60', POLL_INTERVAL_SECONDS: '0.2' },
      );
      // THEN it does not wait for the start timeout
      expect(result.code).toBe(1);
      expect(result.endedAt - t0).toBeLessThan(10_000);
      expect(result.terminationMessage).toBe(`${runners[1]!.url} was stopped before the run started; no load was started\n`);
      expect(runners[0]!.resumedAt).toEqual([]);
      expect(runners[0]!.stoppedAt).toHaveLength(1);
    } finally {
      await Promise.all(runners.map((r) => r.close()));
    }
  });

  test('does nothing beside a runner other than runner 0', async () => {
    // GIVEN a runner that is never ready
    const runner = await fakeRunner(undefined, Date.now());
    try {
      // WHEN the starter runs in pod 1 of a scheduled run
      const result = await runStarter([runner.url], { RUNNER_INDEX: '1', START_TIMEOUT_SECONDS: '1' });

      // THEN it exits 0 at once without contacting anyone
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('starter: runner 1 is not runner 0; nothing to do\n');
      expect(runner.polls).toEqual([]);
    } finally {
      await runner.close();
    }
  });

  test('fails when no runner is given', async () => {
    // GIVEN / WHEN the starter runs with no URL
    const result = await runStarter([], {});
    // THEN it fails with a clear message
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('starter: FAILED: no runner URLs given\n');
  });

  test('starterCommand runs the mounted script with the runner URLs as arguments (no sh -c), --stop in front to stop', () => {
    // GIVEN / WHEN
    const c = starterCommand(['http://a:6565', 'http://b:6565']);
    const stop = starterCommand(['http://a:6565'], { stop: true });
    // THEN
    expect(c).toEqual({ command: ['sh', `${STARTER_MOUNT_PATH}/${STARTER_SCRIPT_KEY}`], args: ['http://a:6565', 'http://b:6565'] });
    expect(stop.args).toEqual(['--stop', 'http://a:6565']);
  });
});

describe('starter script with setup once', () => {
  const env = { START_TIMEOUT_SECONDS: '20', POLL_INTERVAL_SECONDS: '0.2', RUN_POLL_INTERVAL_SECONDS: '0.2', RUNNER_INDEX: '0', SETUP_ONCE: 'true' };

  test('setup() once on runner 0, its data to every other runner before the resume, teardown() once after all ended, then runner 0 released', async () => {
    // GIVEN runner 0 lingers after its run (k6 --linger); runners 1 and 2 exit when done, runner 2 later than 1
    const t0 = Date.now();
    const data = '{"token":"abc","users":[{"id":1,"name":"Zoë"}],"nested":{"a":[1,2,{"b":null}]}}';
    const r0 = await fakeRunner(0, t0, { linger: true, runMs: 300, setupData: data });
    const r1 = await fakeRunner(200, t0, { runMs: 500 });
    const r2 = await fakeRunner(0, t0, { runMs: 1500 });
    const k6 = fakeK6Process();
    try {
      // WHEN
      const result = await runStarter([r0.url, r1.url, r2.url], { ...env, K6_PROCESS_NAME: k6.name });
      const exit = await k6.exited;

      // THEN it succeeds
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.split('\n')).toEqual([
        expect.stringMatching(/^starter: all 3 runners ready after \d+s$/),
        'starter: setup() ran on runner 0; its data went to 2 other runner(s)',
        'starter: resumed 3 runners',
        'starter: all 3 runners finished; running teardown() on runner 0',
        expect.stringMatching(/^starter: released runner 0 \(k6 pid \d+\)$/),
        'starter: teardown() done',
        '',
      ]);
      // AND setup() ran once, on runner 0 only, after every runner was ready
      expect(r0.setupRuns).toHaveLength(1);
      expect(r1.setupRuns).toEqual([]);
      expect(r2.setupRuns).toEqual([]);
      expect(r0.setupRuns[0]!).toBeGreaterThanOrEqual(r1.readyAt!);
      // AND the others got setup()'s data byte for byte, before anyone was resumed
      for (const r of [r1, r2]) {
        expect(r.setupPuts.map((p) => p.body)).toEqual([data]);
        expect(r.setupPuts[0]!.at).toBeLessThanOrEqual(Math.min(...[r0, r1, r2].map((x) => x.resumedAt[0]!)));
      }
      // AND all were resumed together
      const resumed = [r0, r1, r2].map((r) => r.resumedAt[0]!);
      expect(Math.max(...resumed) - Math.min(...resumed)).toBeLessThan(500);
      // AND teardown() ran once, on runner 0, after the last runner (runner 2) had ended
      expect(r0.teardownRuns).toHaveLength(1);
      expect(r1.teardownRuns).toEqual([]);
      expect(r2.teardownRuns).toEqual([]);
      expect(r0.teardownRuns[0]!).toBeGreaterThanOrEqual(r2.endedAt!);
      // AND runner 0's k6 process was ended with SIGTERM after teardown()
      expect(exit.signal).toBe('SIGTERM');
      expect(exit.at).toBeGreaterThanOrEqual(r0.teardownRuns[0]!);
      expect(result.started).toBe(true);
    } finally {
      await Promise.all([r0, r1, r2].map((r) => r.close()));
    }
  });

  test('a runner 0 that answers late once is asked again (not a failure), and finished runners count as over at once', async () => {
    // GIVEN runner 0 answers its first status request after its run 2 s late (the status timeout is 1 s); runners 1
    // and 2 exit right after their run (nothing listens any more)
    const t0 = Date.now();
    const r0 = await fakeRunner(0, t0, { linger: true, runMs: 200, slowAfterEndMs: 2000 });
    const others = await Promise.all([0, 0].map(() => fakeRunner(0, t0, { runMs: 200 })));
    const k6 = fakeK6Process();
    try {
      // WHEN
      const result = await runStarter([r0.url, ...others.map((r) => r.url)], { ...env, STATUS_TIMEOUT_SECONDS: '1', K6_PROCESS_NAME: k6.name });
      await k6.exited;
      // THEN teardown ran once, after a retry of runner 0
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(r0.teardownRuns).toHaveLength(1);
      const afterEnd = r0.polls.filter((t) => t >= r0.endedAt!);
      expect(afterEnd.length).toBeGreaterThanOrEqual(2);
    } finally {
      await Promise.all([r0, ...others].map((r) => r.close()));
    }
  });

  test('a setup() that returns nothing hands an empty body to the others (k6 sets no data)', async () => {
    // GIVEN
    const t0 = Date.now();
    const r0 = await fakeRunner(0, t0, { linger: true, runMs: 100 });
    const r1 = await fakeRunner(0, t0, { runMs: 100 });
    const k6 = fakeK6Process();
    try {
      // WHEN
      const result = await runStarter([r0.url, r1.url], { ...env, K6_PROCESS_NAME: k6.name });
      await k6.exited;
      // THEN
      expect(result.code).toBe(0);
      expect(r1.setupPuts.map((p) => p.body)).toEqual(['']);
      expect(r0.teardownRuns).toHaveLength(1);
    } finally {
      await Promise.all([r0, r1].map((r) => r.close()));
    }
  });

  test('a setup() that throws fails the run with its message: no runner is resumed, all are stopped, runner 0 is released', async () => {
    // GIVEN setup() throws on runner 0
    const t0 = Date.now();
    const detail = 'Error: login refused\n\tat setup (file:///scripts/sample.js:12:5(3))';
    const r0 = await fakeRunner(0, t0, { linger: true, setupError: detail });
    const r1 = await fakeRunner(0, t0);
    const k6 = fakeK6Process();
    try {
      // WHEN
      const result = await runStarter([r0.url, r1.url], { ...env, K6_PROCESS_NAME: k6.name });
      const exit = await k6.exited;
      // THEN
      const message = `setup() failed on runner 0 (HTTP 500): ${JSON.stringify(detail).slice(1, -1)}; no load was started`;
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`starter: FAILED: ${message}\n`);
      expect(result.terminationMessage).toBe(`${message}\n`);
      expect(result.started).toBe(false);
      for (const r of [r0, r1]) {
        expect(r.resumedAt).toEqual([]);
        expect(r.stoppedAt).toHaveLength(1);
      }
      expect(r1.setupPuts).toEqual([]);
      expect(r0.teardownRuns).toEqual([]);
      expect(exit.signal).toBe('SIGTERM');
    } finally {
      await Promise.all([r0, r1].map((r) => r.close()));
    }
  });

  test('a teardown() that throws fails the starter with its message after releasing runner 0', async () => {
    // GIVEN
    const t0 = Date.now();
    const r0 = await fakeRunner(0, t0, { linger: true, runMs: 100, teardownError: 'Error: cleanup failed' });
    const r1 = await fakeRunner(0, t0, { runMs: 100 });
    const k6 = fakeK6Process();
    try {
      // WHEN
      const result = await runStarter([r0.url, r1.url], { ...env, K6_PROCESS_NAME: k6.name });
      const exit = await k6.exited;
      // THEN
      expect(result.code).toBe(1);
      expect(result.terminationMessage).toBe('teardown() failed on runner 0 (HTTP 500): Error: cleanup failed\n');
      expect(exit.signal).toBe('SIGTERM');
      expect(result.started).toBe(true);
    } finally {
      await Promise.all([r0, r1].map((r) => r.close()));
    }
  });
});

describe('starter script --stop', () => {
  test('asks every runner to stop at once and reports the ones it could not reach (finished runners are gone)', async () => {
    // GIVEN two running runners and one that already exited
    const t0 = Date.now();
    const live = await Promise.all([0, 0].map((ms) => fakeRunner(ms, t0)));
    const gone = await fakeRunner(0, t0);
    const goneUrl = gone.url;
    await gone.close();
    try {
      // WHEN
      const result = await runStarter(['--stop', live[0]!.url, goneUrl, live[1]!.url], {});
      // THEN
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`starter: asked 3 runners to stop; not reached (finished or gone): ${goneUrl}\n`);
      for (const r of live) {
        expect(r.stoppedAt).toHaveLength(1);
        expect(r.resumedAt).toEqual([]);
        expect(r.polls).toEqual([]);
      }
    } finally {
      await Promise.all(live.map((r) => r.close()));
    }
  });
});
