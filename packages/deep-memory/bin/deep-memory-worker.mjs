#!/usr/bin/env node
// The worker entry point, built into dist/ (src/bin/deep-memory-worker.ts); this file exists before a build so package managers can link it.
import "../dist/bin/deep-memory-worker.js";
