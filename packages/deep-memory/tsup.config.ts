import { packageBuild } from "../../tsup.base.js";

export default packageBuild({
  entry: {
    index: "src/index.ts",
    "protocol/index": "src/protocol/index.ts",
    // Providers and store adapters are subpaths, so their optional peer dependencies stay out of the core.
    "openai/index": "src/adapters/openai/index.ts",
    "postgres/index": "src/adapters/postgres/index.ts",
    "pglite/index": "src/adapters/pglite/index.ts",
    "supabase/index": "src/adapters/supabase/index.ts",
    "deeplake/index": "src/adapters/deeplake/index.ts",
    "pgvector/index": "src/adapters/pgvector/index.ts",
    // The pg-boss job runner; pg-boss is an optional peer.
    "pg-boss/index": "src/adapters/pg-boss/index.ts",
    // The worker process: deep-memory-worker <module>.
    "bin/deep-memory-worker": "src/bin/deep-memory-worker.ts",
    // Helpers for adapter authors, retrieval and evaluation internals, the zod schemas: off the root on purpose.
    "provider-utils/index": "src/provider-utils/index.ts",
    "retrieval/index": "src/retrieval/index.ts",
    "evaluation/index": "src/evaluation/index.ts",
    "schemas/index": "src/schemas/index.ts",
    // Test helpers for hosts (a fake OpenAI server on msw, synthetic corpora); msw is an optional peer.
    "testing/index": "src/testing/index.ts",
  },
  // p-retry is ESM-only; bundling it keeps the CommonJS build loadable by require().
  // So is pgvector (its vector text format helpers; 0.3 also asks for Node 22),
  // bundled into the /pgvector entry so users install only pg or PGlite.
  noExternal: ["p-retry", "is-network-error", "pgvector"],
});
