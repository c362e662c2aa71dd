/**
 * Fake k6 runners for the starter script (constructs/src/k6/starter.sh), and a way to run that script for real with
 * sh + curl the way the starter container does.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { readBody } from './http';

/**
 * A fake k6 runner implementing the REST API routes the starter uses, as k6 v1.7.1 answers them:
 * - GET/PATCH /v1/status (api/v1/status_routes.go, status.go: `status` is lib/execution.go's ExecutionStatus, 1
 *   InitVUs, 4 PausedBeforeRun, 7 Running, 10 Interrupted; `running` is started and not ended; `stopped` once the run
 *   context is done);
 * - POST/PUT /v1/setup and POST /v1/teardown (api/v1/setup_teardown_routes.go, setup_jsonapi.go: the setup answer is
 *   {"data":{"type":"setupData","id":"default","attributes":{"data":X}}}, attributes {} for no data; PUT takes X as
 *   its body; errors are {"errors":[{"status","title","detail"}]} with HTTP 500, api/v1/errors.go).
 * After the resume the run lasts `runMs`; with noSetup/noTeardown the status stays 7 and `running` turns false
 * (internal/execution/scheduler.go Run). Without linger the process then exits: the server closes.
 */
export interface FakeRunner {
  readonly url: string;
  /** When GET /v1/status starts reporting PausedBeforeRun (status 4); undefined = never. */
  readyAt: number | undefined;
  /** Times of PATCH requests that resumed the runner. */
  readonly resumedAt: number[];
  /** Times of PATCH requests that stopped the runner. */
  readonly stoppedAt: number[];
  /** Times of GET requests. */
  readonly polls: number[];
  /** Times of POST /v1/setup, and the bodies of PUT /v1/setup. */
  readonly setupRuns: number[];
  readonly setupPuts: { at: number; body: string }[];
  /** Times of POST /v1/teardown. */
  readonly teardownRuns: number[];
  /** When the run ended (after resume + runMs), or when the process "exited". */
  endedAt: number | undefined;
  exitedAt: number | undefined;
  close(): Promise<void>;
}

export interface FakeOptions {
  /** Run duration after the resume. @default never ends */
  readonly runMs?: number;
  /** Stays up after the run (k6 --linger). @default false */
  readonly linger?: boolean;
  /** What setup() returns (JSON text); undefined = nothing. */
  readonly setupData?: string;
  /** setup() throws this message. */
  readonly setupError?: string;
  /** teardown() throws this message. */
  readonly teardownError?: string;
  /** The first GET /v1/status after the run ended answers this late (a runner under load). */
  readonly slowAfterEndMs?: number;
}

export const RESUME = { data: { type: 'status', id: 'default', attributes: { paused: false } } };
export const STOP = { data: { type: 'status', id: 'default', attributes: { stopped: true } } };

const apiError = (title: string, detail: string) => JSON.stringify({ errors: [{ status: '500', title, detail }] });

export async function fakeRunner(readyAfterMs: number | undefined, t0: number, o: FakeOptions = {}): Promise<FakeRunner> {
  let paused = true;
  let stopped = false;
  let setupData: string | undefined;
  let slowDone = false;
  const state = {
    readyAt: readyAfterMs === undefined ? undefined : t0 + readyAfterMs,
    resumedAt: [] as number[],
    stoppedAt: [] as number[],
    polls: [] as number[],
    setupRuns: [] as number[],
    setupPuts: [] as { at: number; body: string }[],
    teardownRuns: [] as number[],
    endedAt: undefined as number | undefined,
    exitedAt: undefined as number | undefined,
  };
  const setupAnswer = () =>
    JSON.stringify({
      data: { type: 'setupData', id: 'default', attributes: setupData === undefined ? {} : { data: JSON.parse(setupData) as unknown } },
    });
  const server: Server = createServer((req, res) => {
    void (async (): Promise<unknown> => {
      const now = Date.now();
      const body = await readBody(req);
      const ready = state.readyAt !== undefined && now >= state.readyAt;
      const ended = state.endedAt !== undefined && now >= state.endedAt;
      const json = (code: number, text: string) => res.writeHead(code, { 'content-type': 'application/json' }).end(text);
      if (req.url === '/v1/status' && req.method === 'GET') {
        state.polls.push(now);
        if (ended && o.slowAfterEndMs !== undefined && !slowDone) {
          slowDone = true;
          await new Promise((r) => setTimeout(r, o.slowAfterEndMs));
        }
        const status = stopped ? 10 : !ready ? 1 : paused ? 4 : 7;
        const running = !paused && !ended && !stopped ? true : stopped;
        return json(
          200,
          JSON.stringify({
            data: { type: 'status', id: 'default', attributes: { status, paused, vus: 1, 'vus-max': 1, stopped, running, tainted: false } },
          }),
        );
      }
      if (req.url === '/v1/status' && req.method === 'PATCH') {
        const parsed = JSON.parse(body) as unknown;
        if (req.headers['content-type'] !== 'application/json') return res.writeHead(415).end();
        if (JSON.stringify(parsed) === JSON.stringify(RESUME)) {
          state.resumedAt.push(now);
          paused = false;
          if (o.runMs !== undefined) {
            state.endedAt = now + o.runMs;
            if (o.linger !== true) setTimeout(() => void exit(), o.runMs + 100);
          }
          return json(200, body);
        }
        if (JSON.stringify(parsed) === JSON.stringify(STOP)) {
          state.stoppedAt.push(now);
          stopped = true;
          if (o.linger !== true) setTimeout(() => void exit(), 100);
          return json(200, body);
        }
        return res.writeHead(400).end('unexpected body');
      }
      if (req.url === '/v1/setup' && req.method === 'POST') {
        state.setupRuns.push(now);
        if (o.setupError !== undefined) return json(500, apiError('Error executing setup', o.setupError));
        setupData = o.setupData;
        return json(200, setupAnswer());
      }
      if (req.url === '/v1/setup' && req.method === 'PUT') {
        state.setupPuts.push({ at: now, body });
        setupData = body.length === 0 ? undefined : body;
        return json(200, setupAnswer());
      }
      if (req.url === '/v1/teardown' && req.method === 'POST') {
        state.teardownRuns.push(now);
        if (o.teardownError !== undefined) return json(500, apiError('Error executing teardown', o.teardownError));
        return res.writeHead(200).end();
      }
      return res.writeHead(405).end();
    })();
  });
  const exit = async () => {
    if (state.exitedAt !== undefined) return;
    state.exitedAt = Date.now();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, { url: `http://127.0.0.1:${port}`, close: exit });
}

export interface StarterResult {
  code: number | null;
  stdout: string;
  stderr: string;
  endedAt: number;
  /** What the starter wrote to its termination log ('' when nothing). */
  terminationMessage: string;
  /** Whether it left the `started` file its readiness probe reads. */
  started: boolean;
}

/**
 * Runs the starter script at `script` for real (sh + curl), as the starter container does, with its own state dir
 * and termination log under `dir`.
 */
export function runStarterScript(script: string, dir: string, urls: string[], env: Record<string, string>): Promise<StarterResult> {
  const stateDir = mkdtempSync(path.join(dir, 'state-'));
  const log = path.join(stateDir, 'termination-log');
  writeFileSync(log, '');
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [script, ...urls], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', STATE_DIR: stateDir, TERMINATION_LOG: log, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        endedAt: Date.now(),
        terminationMessage: readFileSync(log, 'utf8'),
        started: existsSync(path.join(stateDir, 'started')),
      }),
    );
  });
}
