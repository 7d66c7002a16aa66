import { describe } from "vitest";
import { routerContract } from "@zip/deep-memory-server/test-support";
import { expressMount } from "./test-utils/express-mount.js";

describe("createDeepMemoryRouter on Express 5", () => routerContract(expressMount));
