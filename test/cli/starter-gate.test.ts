/**
 * The start gate of a multi-cluster run in constructs/src/k6/starter.sh, run for real with sh + curl against fake k6
 * runners (test/support/fake-k6-runner.ts): the starter beside runner 0 with START_GATE=external only waits (and with
 * setup once runs setup() for its cluster), the start Job's starter (`--resume`) resumes at START_AT and reports when.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fakeRunner, type FakeRunner } from '../support/fake-k6-runner';
import { runScript, type ScriptRun } from './live-cluster';

let dir: string;
let fakeK6Count = 0;
beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'k6-starter-gate-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GATE = { START_TIMEOUT_SECONDS: '20', RUN_POLL_INTERVAL_SECONDS: '0.2', RUNNER_INDEX: '0', START_GATE: 'external' };
const until = async (ok: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};
const started = (s: ScriptRun) => existsSync(path.join(s.stateDir, 'started'));
const urls = (rs: readonly FakeRunner[]) => rs.map((r) => r.url);
const resumedAt = (s: ScriptRun) => Number(/resumed-at=(\d+)/.exec(s.message())![1]);
const doneAt = (s: ScriptRun) => Number(/done-at=(\d+)/.exec(s.message())![1]);

/** A process standing for runner 0's k6 in the shared process namespace (a `sleep` under a unique name). */
function fakeK6Process(): { name: string; exited: Promise<number> } {
  const name = `k6g${process.pid % 100000}n${++fakeK6Count}`.slice(0, 15);
  const link = path.join(dir, name);
  symlinkSync(execFileSync('sh', ['-c', 'command -v sleep']).toString().trim(), link);
  const child = spawn(link, ['300'], { stdio: 'ignore' });
  return { name, exited: new Promise((resolve) => child.on('exit', () => resolve(Date.now()))) };
}

describe('the start gate of a multi-cluster run', () => {
  test('the gated starter resumes nothing; the start Job resumes every runner at START_AT and reports when', async () => {
    // GIVEN two runners, one ready late
    const t0 = Date.now();
    const runners = await Promise.all([0, 600].map((ms) => fakeRunner(ms, t0, { runMs: 200 })));
    try {
      // WHEN the gated starter runs
      const gate = runScript(dir, urls(runners), GATE);
      await gate.done;
      // THEN it waited for both, wrote `started` (its readiness) and resumed nothing
      expect(gate.code).toBe(0);
      expect(gate.stdout).toMatch(
        /^starter: all 2 runners ready after \d+s\nstarter: all 2 runners ready; waiting for the start Job to resume them\n$/,
      );
      expect(started(gate)).toBe(true);
      expect(gate.endedAt!).toBeGreaterThanOrEqual(runners[1]!.readyAt!);
      for (const r of runners) expect(r.resumedAt).toEqual([]);
      // AND WHEN the start Job's starter runs with a start time 800 ms ahead
      const startAt = Date.now() + 800;
      const start = runScript(dir, ['--resume', ...urls(runners)], { START_AT: String(startAt), MAX_LATE_MS: '500', START_TIMEOUT_SECONDS: '5' });
      await start.done;
      // THEN it resumed both at the start time (not before), within the bound, and its termination log says when
      expect([start.code, start.stderr]).toEqual([0, '']);
      expect(start.stdout).toMatch(
        /^starter: all 2 runners ready after \d+s\nstarter: resumed 2 runners at \d+ \(START_AT \+ \d+ ms; answered after \d+ ms\)\n$/,
      );
      expect(resumedAt(start)).toBeGreaterThanOrEqual(startAt);
      expect(resumedAt(start) - startAt).toBeLessThanOrEqual(500);
      for (const r of runners) {
        expect(r.resumedAt).toHaveLength(1);
        expect(r.resumedAt[0]!).toBeGreaterThanOrEqual(resumedAt(start));
        expect(r.resumedAt[0]!).toBeLessThanOrEqual(doneAt(start));
      }
    } finally {
      await Promise.all(runners.map((r) => r.close()));
    }
  });

  test('where date has no %N (a busybox built without it) the clock comes from /proc/uptime: still on time to the tens of ms', async () => {
    // GIVEN a `date` that prints "%N" literally, as such a busybox does, first in PATH
    const bin = mkdtempSync(path.join(dir, 'bin-'));
    const real = execFileSync('sh', ['-c', 'command -v date']).toString().trim();
    writeFileSync(path.join(bin, 'date'), `#!/bin/sh\ncase "$*" in *%N*) printf '%s%%N\\n' "$(${real} +%s)" ;; *) exec ${real} "$@" ;; esac\n`, {
      mode: 0o755,
    });
    expect(execFileSync(path.join(bin, 'date'), ['+%s%N']).toString()).toMatch(/^\d+%N\n$/);
    const runners = await Promise.all([0, 0].map(() => fakeRunner(0, Date.now())));
    try {
      // WHEN the start Job's starter runs with a start time 2.5 s ahead (the calibration takes up to a second)
      const startAt = Date.now() + 2500;
      const start = runScript(dir, ['--resume', ...urls(runners)], {
        START_AT: String(startAt),
        MAX_LATE_MS: '500',
        PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      });
      await start.done;
      // THEN it resumed both after the start time and within 100 ms of it (uptime counts in 10 ms steps)
      expect([start.code, start.stderr]).toEqual([0, '']);
      for (const r of runners) {
        expect(r.resumedAt[0]!).toBeGreaterThanOrEqual(startAt - 10);
        expect(r.resumedAt[0]! - startAt).toBeLessThanOrEqual(100);
      }
      expect(Math.abs(resumedAt(start) - runners[0]!.resumedAt[0]!)).toBeLessThanOrEqual(50);
    } finally {
      await Promise.all(runners.map((r) => r.close()));
    }
  });

  test('past the bound the start Job resumes nothing and fails, saying why', async () => {
    const runners = await Promise.all([0, 0].map(() => fakeRunner(0, Date.now())));
    try {
      const startAt = Date.now() - 3000;
      const start = runScript(dir, ['--resume', ...urls(runners)], { START_AT: String(startAt), MAX_LATE_MS: '2000' });
      await start.done;
      expect(start.code).toBe(1);
      expect(start.message()).toMatch(
        new RegExp(`^could not resume at the start time: \\d+ ms past START_AT ${startAt}, more than MAX_LATE_MS 2000; nothing was resumed\\n$`),
      );
      for (const r of runners) expect(r.resumedAt).toEqual([]);
    } finally {
      await Promise.all(runners.map((r) => r.close()));
    }
  });

  test('setup once over two clusters: setup() once per cluster before the shared start, teardown() once per cluster after its runners ended', async () => {
    // GIVEN two clusters of two runners; runner 0 of each lingers (k6 --linger) and has a k6 process beside it
    const t0 = Date.now();
    const clusters = await Promise.all(
      ['eu', 'us'].map(async (zone) => ({
        zone,
        runners: [await fakeRunner(0, t0, { linger: true, runMs: 300, setupData: `{"zone":"${zone}"}` }), await fakeRunner(300, t0, { runMs: 600 })],
        k6: fakeK6Process(),
      })),
    );
    try {
      // WHEN each cluster's gated starter runs with setup once, and once both are ready each start Job at one time
      const gates = clusters.map((c) => runScript(dir, urls(c.runners), { ...GATE, SETUP_ONCE: 'true', K6_PROCESS_NAME: c.k6.name }));
      await until(() => gates.every(started));
      for (const c of clusters) for (const r of c.runners) expect(r.resumedAt).toEqual([]);
      const startAt = Date.now() + 500;
      const starts = clusters.map((c) => runScript(dir, ['--resume', ...urls(c.runners)], { START_AT: String(startAt), MAX_LATE_MS: '500' }));
      await Promise.all([...starts, ...gates].map((s) => s.done));
      // THEN each cluster's setup() ran once, on its runner 0, its data went to its own other runner, before the start
      for (const [i, c] of clusters.entries()) {
        const [r0, r1] = c.runners as [FakeRunner, FakeRunner];
        expect(gates[i]!.code).toBe(0);
        expect(r0.setupRuns).toHaveLength(1);
        expect(r1.setupRuns).toEqual([]);
        expect(r1.setupPuts.map((p) => p.body)).toEqual([`{"zone":"${c.zone}"}`]);
        expect(r1.setupPuts[0]!.at).toBeLessThan(startAt);
        // AND the start Job resumed them at the shared start time
        for (const r of c.runners) expect(r.resumedAt[0]!).toBeGreaterThanOrEqual(startAt);
        // AND teardown() ran once on runner 0 after its cluster's runners ended, then released runner 0's k6
        expect(r0.teardownRuns).toHaveLength(1);
        expect(r0.teardownRuns[0]!).toBeGreaterThanOrEqual(r1.endedAt!);
        expect(gates[i]!.stdout).toContain('starter: teardown() done');
        expect(await c.k6.exited).toBeGreaterThanOrEqual(r0.teardownRuns[0]!);
      }
      // AND both clusters resumed together
      const times = clusters.flatMap((c) => c.runners.map((r) => r.resumedAt[0]!));
      expect(Math.max(...times) - Math.min(...times)).toBeLessThanOrEqual(300);
    } finally {
      await Promise.all(clusters.flatMap((c) => c.runners.map((r) => r.close())));
    }
  }, 30_000);
});
