/**
 * The Helm umbrella bundle (`dist/<env>/platform/chart/`): see ./helm/bundle.ts, whose API this module re-exports
 * (templating in ./helm/templating.ts, the named templates in ./helm/helpers-tpl.ts, NOTES.txt in ./helm/notes.ts).
 */
export {
  BUNDLE_CHART_HOME,
  BUNDLE_CHART_NAME,
  BUNDLE_CHART_SOURCES,
  BUNDLE_CHART_VERSION,
  BUNDLE_HEADER,
  bundleValues,
  escapeTemplate,
  helmBundle,
  writeHelmBundle,
} from './helm/bundle';
export type { BundleValues, HelmBundleProps } from './helm/bundle';
