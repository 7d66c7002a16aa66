/**
 * The router contract suite, for every mount of the deep-memory HTTP API:
 * call `routerContract(mount)` inside a vitest `describe` with a `Mount` that
 * serves the API on a real socket (see contract-harness.ts). Not published;
 * workspace packages and examples import it by path.
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
export { createTrainer, listen, openStream, type TestSetup, type RunningServer } from "./fixtures.js";
