import type { NextConfig } from "next";

/** Workspace packages this app compiles from their TypeScript source (no `pnpm build` first). */
const workspacePackages = ["@zip/deep-memory", "@zip/deep-memory-engine", "@zip/deep-memory-protocol", "@zip/deep-memory-react", "@zip/deep-memory-server", "@zip/deep-memory-local-embedder", "@zip/example-knowledge-base", "@zip/example-admin-ui"];

/** The parts of webpack's configuration changed below (Next types the whole object as `any`). */
interface WebpackConfig {
  resolve: { conditionNames?: string[]; extensionAlias?: Record<string, string[]> };
  module: { rules: object[] };
}

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  transpilePackages: workspacePackages,
  // Native code and WASM that Node loads at run time: never bundled.
  serverExternalPackages: ["@electric-sql/pglite", "@huggingface/transformers", "onnxruntime-node"],
  // Type checking and linting run in `pnpm typecheck` / `pnpm lint`; `next build` would only repeat them on 2 cores.
  typescript: { ignoreBuildErrors: true },
  eslint: { ignoreDuringBuilds: true },
  webpack(webpackConfig: WebpackConfig) {
    // The workspace packages' "@zip/source" export condition points at their .ts files, whose imports say ".js".
    webpackConfig.resolve.conditionNames = ["@zip/source", ...(webpackConfig.resolve.conditionNames ?? ["..."])];
    webpackConfig.resolve.extensionAlias = { ...webpackConfig.resolve.extensionAlias, ".js": [".ts", ".tsx", ".js"] };
    // The knowledge base reads its documents.md next to its source (`new URL("./documents.md", import.meta.url)`):
    // keep that a file URL on disk instead of letting webpack turn it into an emitted asset.
    webpackConfig.module.rules.push({ test: /knowledge-base[\\/]src[\\/]index\.ts$/, parser: { url: false } });
    return webpackConfig;
  },
};

export default config;
