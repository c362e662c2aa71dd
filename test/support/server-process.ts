/**
 * A server process a test harness started (Prometheus, VictoriaMetrics): its log, whether it exited, and a stop that
 * ends it by PID (SIGTERM, then SIGKILL after 5 s) and removes its data directory. A test file that dies without
 * afterAll leaves no process or directory behind: an exit hook kills what is still running.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/** A supervised server process. */
export interface ServerProcess {
  /** What the process wrote on the streams given. */
  readonly log: () => string;
  /** Its exit code once it exited (null: ended by a signal), undefined while it runs. */
  readonly exitCode: () => number | null | undefined;
  /** Ends it and removes its directory; idempotent. */
  readonly stop: () => Promise<void>;
}

const running = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const r of running) {
      r.child.kill('SIGKILL');
      rmSync(r.dir, { recursive: true, force: true });
    }
  });
}

/** Supervises `child`, whose data lives in `dir`, collecting the output of `streams`. */
export function superviseServer(child: ChildProcess, dir: string, streams: 'stderr' | 'both'): ServerProcess {
  installExitHook();
  const entry = { child, dir };
  running.add(entry);
  let log = '';
  for (const stream of streams === 'both' ? [child.stdout, child.stderr] : [child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (d: string) => {
      log += d;
    });
  }
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code) => {
      exited = code;
      resolve();
    });
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    running.delete(entry);
    rmSync(dir, { recursive: true, force: true });
  };
  return { log: () => log, exitCode: () => exited, stop };
}
