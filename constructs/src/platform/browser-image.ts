import type { PlatformConfig } from '../config/platform-config';
import { defaultK6Image, k6BrowserImage, versions } from '../contract/versions';
import { importsBrowser } from '../load-test/browser';
import type { TestScripts } from '../load-test/test-scripts';
import { withDigest } from '../runner-image/runner-image';

/**
 * Which image a test's runners use. A test whose bundle imports `k6/browser` runs the official image with Chromium at
 * `runner.k6Version` (`grafana/k6:<version>-with-browser`, pinned by `runner.imageDigests.k6WithBrowser` when given);
 * every other test runs the runner image (`runnerImage`: the official image, `runner.image`, or the built one). An
 * explicit `runner.image` runs every test, browser tests included, and is checked by {@link browserImageProblem}.
 */
export function testRunnerImage(cfg: PlatformConfig, scripts: Pick<TestScripts, 'modules'>, runnerImage: string): string {
  if (!importsBrowser(scripts) || !browserDerived(cfg)) return runnerImage;
  return withDigest(k6BrowserImage(cfg.runner.k6Version), cfg.runner.imageDigests.k6WithBrowser);
}

/** Whether browser tests get the derived image: no explicit `runner.image` and no extensions (a built image has no browser). */
function browserDerived(cfg: PlatformConfig): boolean {
  return cfg.runner.extensions.length === 0 && cfg.runner.image === defaultK6Image;
}

/** What {@link browserImageProblem} found for one test importing `k6/browser`. */
export interface BrowserImageProblem {
  readonly error?: string;
  readonly warning?: string;
}

/**
 * The image problem of a test importing `k6/browser` (`who` names the test, the file and the line):
 * - extensions build k6 on the official image without a browser: an error (browser tests cannot run with extensions);
 * - an explicit `runner.image` of the official repository without `-with-browser`: an error naming the fix;
 * - an explicit image the platform does not know: a warning (it may have a browser);
 * - the derived image pinned by tag while `runner.imageDigests.k6` pins the plain one: a warning naming the field.
 */
export function browserImageProblem(cfg: PlatformConfig, who: string, testName: string): BrowserImageProblem {
  const k6Version = cfg.runner.k6Version;
  const browserImage = k6BrowserImage(k6Version);
  if (cfg.runner.extensions.length > 0) {
    return {
      error:
        `${who}, but 'runner.extensions' builds k6 on ${versions.k6Image}:${k6Version}, which has no browser; ` +
        `run browser tests on 'runner.image' ${browserImage} (without extensions)`,
    };
  }
  if (browserDerived(cfg)) {
    const d = cfg.runner.imageDigests;
    return d.k6 !== undefined && d.k6WithBrowser === undefined
      ? {
          warning:
            `${who}: test '${testName}' runs ${browserImage} by tag only while 'runner.imageDigests.k6' pins the plain image; ` +
            `pin it with 'runner.imageDigests.k6WithBrowser' (crane digest ${browserImage})`,
        }
      : {};
  }
  const image = cfg.runner.image;
  const { browser, withBrowser } = imageBrowser(image, browserImage);
  if (browser === false) {
    return {
      error:
        `${who}, so test '${testName}' needs a browser, but 'runner.image' ${image} has none; ` +
        `set 'runner.image' to ${withBrowser}, or remove 'runner.image' (browser tests then run ${browserImage}, the others ${versions.k6Image}:${k6Version})`,
    };
  }
  if (browser === undefined) return { warning: `${who}: make sure the runner image ${image} has a browser (the official one is ${browserImage})` };
  return {};
}

/**
 * Whether an image has a browser: for the official k6 image, whether its tag ends in `-with-browser` (and the tag that
 * would); undefined for other images and digest-only references.
 */
export function imageBrowser(image: string, fallback: string): { browser: boolean | undefined; withBrowser: string } {
  const [name, digest] = image.split('@') as [string, string | undefined];
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const repository = colon > slash ? name.slice(0, colon) : name;
  const tag = colon > slash ? name.slice(colon + 1) : undefined;
  const official = [versions.k6Image, `docker.io/${versions.k6Image}`, `index.docker.io/${versions.k6Image}`].includes(repository);
  if (!official || (tag === undefined && digest !== undefined)) return { browser: undefined, withBrowser: fallback };
  const t = tag ?? 'latest';
  const suffix = versions.k6BrowserTagSuffix;
  return { browser: t.endsWith(suffix.slice(1)), withBrowser: t === 'latest' ? fallback : `${repository}:${t}${suffix}` };
}
