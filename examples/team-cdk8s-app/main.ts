/** `cdk8s synth` entry (cdk8s.yaml `app: npx tsx main.ts`): writes the manifests to dist/. */
import { buildTeamApp } from './app';

buildTeamApp().app.synth();
