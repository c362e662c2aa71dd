import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import type { ChartManifest, KubeObject } from '../platform/deploy';
import type { PlatformConfig } from '../config/platform-config';
import type { ChartEnvironment } from './helm/chart';
import { BUNDLE_DIR, MANIFEST_EXTENSION, PLATFORM_DIR } from './layout';

/**
 * The environments a partial synth keeps, as the platform's Helm chart reads them: their config from the stack file,
 * their objects from the platform files synth wrote for them before (`<env>/platform/*.k8s.yaml` of the output being
 * written, which holds the kept folders as they were). So the chart of a partial synth still serves every
 * environment of the output, each with the objects its own folder holds.
 *
 * A kept folder without `platform/` (an output of an older layout) or whose config no longer loads is left out of the
 * chart, with a note.
 */
export function keptChartEnvironments(
  outputDir: string,
  replaced: ReadonlySet<string>,
  loadConfig: (environment: string) => PlatformConfig,
): { environments: ChartEnvironment[]; notes: string[] } {
  const environments: ChartEnvironment[] = [];
  const notes: string[] = [];
  for (const env of readdirSync(outputDir).sort()) {
    const platform = path.join(outputDir, env, PLATFORM_DIR);
    if (env === BUNDLE_DIR || replaced.has(env) || !statSync(path.join(outputDir, env)).isDirectory()) continue;
    if (!existsSync(platform)) {
      notes.push(`chart: environment '${env}' is left out of ${BUNDLE_DIR}/: its kept folder has no ${PLATFORM_DIR}/ (synth it again)`);
      continue;
    }
    let config: PlatformConfig;
    try {
      config = loadConfig(env);
    } catch (e) {
      notes.push(`chart: environment '${env}' is left out of ${BUNDLE_DIR}/: its config does not load (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    const manifests: ChartManifest[] = readdirSync(platform)
      .filter((f) => f.endsWith(MANIFEST_EXTENSION))
      .sort()
      .map((fileName) => ({
        id: fileName,
        fileName,
        objects: YAML.parseAllDocuments(readFileSync(path.join(platform, fileName), 'utf8'))
          .map((d) => d.toJSON() as KubeObject | null)
          .filter((o): o is KubeObject => o !== null),
      }));
    environments.push({ config, manifests });
  }
  return { environments, notes };
}
