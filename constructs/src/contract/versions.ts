/**
 * Every version pin of the platform, in one place. Construct props and the platform config default to these;
 * the README compatibility table, runner/ build args and the Pulumi program read them from here.
 */
export const versions = {
  /** kube-prometheus-stack Helm chart (prometheus-community). Ships Prometheus 3.14 and Grafana 13. */
  kubePrometheusStack: {
    chart: 'kube-prometheus-stack',
    version: '88.5.3',
    repository: 'https://prometheus-community.github.io/helm-charts',
    /** Prometheus version the pinned chart deploys (decides which native-histogram settings matter). */
    prometheus: '3.14.0',
    /** Grafana subchart version the pinned chart depends on. */
    grafanaChart: '12.11.1',
  },
  /** k6 release used by runners (official image, Prometheus remote-write output built in). */
  k6: '1.7.1',
  /** Official k6 image repository. */
  k6Image: 'grafana/k6',
  /**
   * Tag suffix of the official image variant with Chromium (`grafana/k6:<version>-with-browser`): k6 v1.7.1 Dockerfile
   * stage `with-browser` adds alpine's chromium and sets K6_BROWSER_HEADLESS=true and K6_BROWSER_ARGS=no-sandbox.
   */
  k6BrowserTagSuffix: '-with-browser',
  /**
   * Oldest k6-operator that mode "operator" works with: its TestRun CRD has `spec.args` from v1.6.0 on (older operators
   * prune the field silently, so runners would lose the output, the testid tag and the config). `loadtest run` checks
   * the installed CRD.
   */
  k6OperatorMin: '1.6.0',
  /** Go toolchain image of the runner/Dockerfile builder stage (only used when xk6 extensions are declared). */
  goBuilderImage: 'golang:1.26.4',
  /** xk6 release that builds k6 with extensions (`go install go.k6.io/xk6@v<version>`). */
  xk6: '1.4.14',
  /**
   * In-cluster image builder: BuildKit's rootless image (moby/buildkit is maintained; Google's kaniko repository was
   * archived in June 2025).
   */
  buildkitImage: 'moby/buildkit:v0.33.0-rootless',
  /** Image of the starter beside runner 0 and of the stop Job (small, has sh and curl). */
  starterImage: 'curlimages/curl:8.17.0',
  /** Kubernetes API version the manifests target (cdk8s-plus-27). */
  kubernetes: '1.27',
} as const;

/** The default runner image reference: the pinned official k6 image. */
export const defaultK6Image = `${versions.k6Image}:${versions.k6}`;

/** The official k6 image with Chromium at a k6 version: the image of every test whose bundle imports `k6/browser`. */
export function k6BrowserImage(k6Version: string = versions.k6): string {
  return `${versions.k6Image}:${k6Version}${versions.k6BrowserTagSuffix}`;
}
