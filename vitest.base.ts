/**
 * What every workspace project's vitest config shares: workspace packages
 * resolve to their source (the "@zip/source" export condition), so tests need
 * no build. Vitest transforms test files for Node through its SSR pipeline,
 * which has its own resolve conditions, hence both.
 */
import { defineProject, type UserWorkspaceConfig } from "vitest/config";

export const sourceResolve = {
  resolve: { conditions: ["@zip/source"] },
  ssr: { resolve: { conditions: ["@zip/source"] } },
} satisfies UserWorkspaceConfig;

/** A workspace project whose tests run against the packages' source. */
export function sourceProject(test: NonNullable<UserWorkspaceConfig["test"]>): UserWorkspaceConfig {
  return defineProject({ ...sourceResolve, test });
}
