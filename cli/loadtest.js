#!/usr/bin/env node
// The `loadtest` bin: loads the TypeScript CLI through tsx (a devDependency of this repository) and runs it.
require('tsx/cjs');
require('./index.ts').main();
