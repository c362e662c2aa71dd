import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { starterCommand, starterScript, STARTER_MOUNT_PATH, STARTER_SCRIPT_KEY } from '../src/starter';

/** A fake k6 runner implementing the `/v1/status` GET/PATCH contract of k6's REST API. */
interface FakeRunner {
  readonly url: string;
  /** When GET /v1/status starts reporting PausedBeforeRun (status 4); undefined = never. */
  readyAt: number | undefined;
  /** Times of PATCH requests that resumed the runner. */
  readonly resumedAt: number[];
  /** Times of PATCH requests that stopped the runner. */
  readonly stoppedAt: number[];
  /** Times of GET requests. */
  readonly polls: number[];
  close(): Promise<void>;
}

const RESUME = { data: { type: 'status', id: 'default', attributes: { paused: false } } };
const STOP = { data: { type: 'status', id: 'default', attributes: { stopped: true } } };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });
}

async function fakeRunner(readyAfterMs: number | undefined, t0: number): Promise<FakeRunner> {
  let paused = true;
  let stopped = false;
  const state = {
    readyAt: readyAfterMs === undefined ? undefined : t0 + readyAfterMs,
    resumedAt: [] as number[],
    stoppedAt: [] as number[],
    polls: [] as number[],
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const now = Date.now();
      const body = await readBody(req);
      if (req.url !== '/v1/status') {
        res.writeHead(404).end();
        return;
      }
      const ready = state.readyAt !== undefined && now >= state.readyAt;
      if (req.method === 'GET') {
        state.polls.push(now);
        // Before VU init completes k6 reports InitVUs (1); paused and waiting it reports PausedBeforeRun (4).
        const status = !ready ? 1 : paused ? 4 : 7;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ data: { type: 'status', id: 'default', attributes: { status, paused, stopped, running: !paused, tainted: false } } }),
        );
        return;
      }
      if (req.method === 'PATCH') {
        const parsed = JSON.parse(body) as unknown;
        if (req.headers['content-type'] !== 'application/json') {
          res.writeHead(415).end();
        } else if (JSON.stringify(parsed) === JSON.stringify(RESUME)) {
          state.resumedAt.push(now);
          paused = false;
          res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        } else if (JSON.stringify(parsed) === JSON.stringify(STOP)) {
          state.stoppedAt.push(now);
          stopped = true;
          res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        } else {
          res.writeHead(400).end('unexpected body');
        }
        return;
      }
      res.writeHead(405).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

let dir: string;
let script: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'k6-starter-'));
  script = path.join(dir, STARTER_SCRIPT_KEY);
  writeFileSync(script, starterScript());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the starter script for real (sh + curl), as the starter container does. */
function runStarter(urls: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; endedAt: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [script, ...urls], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, endedAt: Date.now() }));
  });
}

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
      expect(result.stdout).toMatch(/^starter: all 4 runners ready after \d+s; resuming them together\nstarter: resumed 4 runners\n$/);
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

  test('fails with a clear message naming the missing runner when one never gets ready, and stops the others', async () => {
    // GIVEN three runners, one of which never becomes ready
    const t0 = Date.now();
    const runners = await Promise.all([0, 300, undefined].map((ms) => fakeRunner(ms, t0)));
    try {
      // WHEN the starter runs with a 2 s timeout
      const result = await runStarter(
        runners.map((r) => r.url),
        { START_TIMEOUT_SECONDS: '2', POLL_INTERVAL_SECONDS: '0.2' },
      );

      // THEN it fails, names the runner that was not ready, resumes nobody and stops the ready runners
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `starter: FAILED: 1 of 3 runners not ready after 2s: ${runners[2]!.url}\nstarter: stopped the runners that were ready: ${runners[0]!.url} ${runners[1]!.url}\n`,
      );
      for (const r of runners) expect(r.resumedAt).toEqual([]);
      expect(runners[0]!.stoppedAt).toHaveLength(1);
      expect(runners[1]!.stoppedAt).toHaveLength(1);
      expect(runners[2]!.stoppedAt).toEqual([]);
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

  test('starterCommand runs the mounted script with the runner URLs as arguments (no sh -c)', () => {
    // GIVEN / WHEN
    const c = starterCommand(['http://a:6565', 'http://b:6565']);
    // THEN
    expect(c).toEqual({ command: ['sh', `${STARTER_MOUNT_PATH}/${STARTER_SCRIPT_KEY}`], args: ['http://a:6565', 'http://b:6565'] });
  });
});
