/**
 * What every package's tsup build shares: ESM and CommonJS with type
 * declarations and source maps, the output folder cleaned first, for Node 20.
 * A package's tsup.config.ts names its entries and only what it does differently.
 */
import { defineConfig, type Options } from "tsup";

export const buildDefaults = {
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
} satisfies Options;

export function packageBuild(options: Options) {
  return defineConfig({ ...buildDefaults, ...options });
}
