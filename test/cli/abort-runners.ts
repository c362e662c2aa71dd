/**
 * Fake k6 runners for the abortOnFail tests: small HTTP servers speaking the part of k6's REST API the platform
 * drives, as k6 v1.7.1 api/v1/status_routes.go answers it: `GET /v1/status` gives the status envelope, `PATCH
 * /v1/status` with `{"data":{"attributes":{"stopped":true}}}` aborts the run (`execution.AbortTestRun`, exit code 103
 * `ScriptStoppedFromRESTAPI`) and answers the new status; a body that is not JSON is a 400 "Invalid data". Each stop is
 * recorded with the injected clock's time, so a test measures on that clock how long the platform took.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { KubeObject } from '../../cli/cluster/cluster';

/** One fake runner. */
export interface FakeRunner {
  readonly url: string;
  /** Injected-clock times (unix ms) of each `stopped: true` PATCH received. */
  readonly stops: number[];
  /** Raw bodies of every PATCH. */
  readonly patches: unknown[];
  readonly stopped: boolean;
}

/** k6 v1.7.1 lib/execution.go: 7 Running, 10 Interrupted (set by AbortTestRun). */
const RUNNING = 7;
const INTERRUPTED = 10;

function statusEnvelope(stopped: boolean) {
  return {
    data: {
      type: 'status',
      id: 'default',
      attributes: { status: stopped ? INTERRUPTED : RUNNING, paused: false, vus: 10, 'vus-max': 10, stopped, running: true, tainted: false },
    },
  };
}

/** Starts `n` fake runners whose stops are timed with `clock`. */
export async function startFakeRunners(n: number, clock: () => number): Promise<{ runners: FakeRunner[]; close: () => Promise<void> }> {
  const servers: Server[] = [];
  const runners: FakeRunner[] = [];
  for (let i = 0; i < n; i++) {
    const state = { stops: [] as number[], patches: [] as unknown[], stopped: false };
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        if (req.url !== '/v1/status') return void res.writeHead(404).end('{"errors":[{"title":"Not Found"}]}');
        if (req.method === 'PATCH') {
          let parsed: { data?: { attributes?: { stopped?: boolean } } };
          try {
            parsed = JSON.parse(body) as typeof parsed;
          } catch (e) {
            return void res.writeHead(400).end(JSON.stringify({ errors: [{ status: '400', title: 'Invalid data', detail: String(e) }] }));
          }
          state.patches.push(parsed);
          if (parsed.data?.attributes?.stopped === true) {
            state.stopped = true;
            state.stops.push(clock());
          }
        }
        res.writeHead(200).end(JSON.stringify(statusEnvelope(state.stopped)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    runners.push({
      url,
      get stops() {
        return state.stops;
      },
      get patches() {
        return state.patches;
      },
      get stopped() {
        return state.stopped;
      },
    });
  }
  const close = async () => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
  return { runners, close };
}

/** The starter script in this repository (what the stop Job's ConfigMap carries). */
export const STARTER_SH = path.resolve(__dirname, '../../constructs/src/k6/starter.sh');

/**
 * Runs a stop Job's container the way the kubelet would, against the fake runners: its command and args with the
 * mounted script path pointed at this repository's starter.sh and the runner URLs (in order: runner 0 first) at the
 * fake runners. Resolves with its output.
 */
export async function runStopJob(job: KubeObject, runners: readonly FakeRunner[]): Promise<{ stdout: string; args: readonly string[] }> {
  const container = (job as unknown as { spec: { template: { spec: { containers: { command: string[]; args: string[] }[] } } } }).spec.template.spec
    .containers[0]!;
  const [shell, script] = container.command;
  expect([shell, path.basename(script!)]).toEqual(['sh', 'start-runners.sh']);
  const urls = container.args.filter((a) => a !== '--stop');
  expect(urls).toHaveLength(runners.length);
  const args = [...container.args.filter((a) => a === '--stop'), ...runners.map((r) => r.url)];
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('sh', [STARTER_SH, ...args], { env: { PATH: process.env.PATH ?? '' } }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
    ),
  );
  return { stdout, args: container.args };
}
