import { describe } from "vitest";
import { routerContract } from "./test-utils/router-contract.js";

describe("createDeepMemoryRouter on Express 5", () => routerContract(5));
