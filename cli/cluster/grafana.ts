import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { PlatformConfig } from '@k6-platform/constructs/internal';
import { grafanaPortForwardCommand, grafanaUrl } from '@k6-platform/constructs/internal';
import { dashboardsDirOf } from '@k6-platform/constructs/output';

/** A generated dashboard, as far as the CLI cares. */
export interface DashboardRef {
  readonly uid: string;
  readonly title: string;
  /** True when the dashboard has a `testid` template variable (so a link can select one run). */
  readonly hasTestId: boolean;
  /** Number of top-level panels (rows included). */
  readonly panels: number;
}

/** Reads the dashboards the platform provisions (`dashboardsDirOf`: uid, title, whether it filters by testid); [] when there are none. */
export function generatedDashboards(rootDir: string): DashboardRef[] {
  const dir = dashboardsDirOf(rootDir);
  if (dir === undefined || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => {
      const json = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
        uid?: string;
        title?: string;
        templating?: { list?: { name?: string }[] };
        panels?: unknown[];
      };
      if (json.uid === undefined) return [];
      return [
        {
          uid: json.uid,
          title: json.title ?? json.uid,
          hasTestId: (json.templating?.list ?? []).some((v) => v.name === 'testid'),
          panels: json.panels?.length ?? 0,
        },
      ];
    });
}

/**
 * The dashboard a run link opens: the one named by `preferred` (uid), else among those filtering by testid the one
 * matching the runners' trend mode (uid or title mentioning "classic" for classic trend stats, not mentioning it for
 * native histograms) with the most panels (the run view, not a run list).
 */
export function runDashboard(dashboards: readonly DashboardRef[], nativeHistograms: boolean, preferred?: string): DashboardRef | undefined {
  if (preferred !== undefined) return dashboards.find((d) => d.uid === preferred);
  const withTestId = dashboards.filter((d) => d.hasTestId);
  const isClassic = (d: DashboardRef) => /classic/i.test(`${d.uid} ${d.title}`);
  const matching = withTestId.filter((d) => isClassic(d) !== nativeHistograms);
  return [...(matching.length > 0 ? matching : withTestId)].sort((a, b) => b.panels - a.panels)[0];
}

/**
 * Grafana's base URL as users reach it: the package's {@link grafanaUrl} when the environment has an ingress host
 * (https when it has a TLS secret), else a local port-forward to the Grafana service (the package's
 * {@link grafanaPortForwardCommand}, which serves it on localhost:3000).
 */
export function grafanaBaseUrl(cfg: PlatformConfig): { readonly url: string; readonly hint?: string } {
  const ingress = cfg.monitoring.grafana.ingress;
  // Without an ingress host, grafanaUrl is the in-cluster service address, which a workstation cannot reach.
  if (ingress.enabled && ingress.host !== undefined) return { url: grafanaUrl(cfg).replace(/\/+$/, '') };
  return { url: 'http://localhost:3000', hint: grafanaPortForwardCommand(cfg) };
}

/** The link to one run on a dashboard: `<base>/d/<uid>?var-testid=<id>&from=<ms>&to=<ms|now>`. */
export function runLink(baseUrl: string, uid: string, testid: string, fromMs: number, toMs?: number): string {
  const params = new URLSearchParams({
    'var-testid': testid,
    from: String(Math.floor(fromMs)),
    to: toMs === undefined ? 'now' : String(Math.ceil(toMs)),
  });
  return `${baseUrl.replace(/\/+$/, '')}/d/${encodeURIComponent(uid)}?${params.toString()}`;
}
