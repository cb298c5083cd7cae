#!/usr/bin/env node
// The local cluster for a person is the one of real nodes: e2e/local/node/main.ts (same --nodes N). This file
// only forwards to it, so `node e2e/local/cluster/main.ts --nodes N` keeps working.
await import("../node/main.ts");
