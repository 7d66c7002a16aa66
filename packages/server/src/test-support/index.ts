/**
 * The router contract suite, for every mount of the deep-memory HTTP API:
 * call `routerContract(mount)` inside a vitest `describe` with a `Mount` that
 * serves the API on a real socket (see contract-harness.ts). Imported as
 * "@zip/deep-memory-server/test-support", which resolves only inside this
 * workspace (the "@zip/source" condition): it is not published.
 */
export { routerContract } from "./router-contract.js";
export {
  BASE,
  EVENTS_BASE,
  userHeader,
  contractHarness,
  type ContractOptions,
  type Mount,
  type MountInput,
  type MountedServer,
  type Scenario,
} from "./contract-harness.js";
export { chunkId, createTrainer, eventually, Gate, GatedGenerator, listen, openStream, questionFor, type OpenedStream, type RunningServer, type TestSetup } from "./fixtures.js";
