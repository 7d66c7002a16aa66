// The engine-speed figures alone (no data set): tsx --conditions=@zip/source bench/src/speed-only.ts [--engine-options '{"refit":false}'] [--dims 384,1536]
import { parseArgs } from "node:util";
import type { LocalDeepMemoryOptions } from "@zip/deep-memory";
import { engineSpeed, referenceSpeed } from "./engine-speed.js";

const { values } = parseArgs({ options: { "engine-options": { type: "string", default: "{}" }, dims: { type: "string", default: "384,1536" } } });
const before = referenceSpeed();
const results = await engineSpeed({
  seed: Number(process.env.SEED ?? 42),
  log: (m) => console.log(m),
  options: JSON.parse(values["engine-options"]) as LocalDeepMemoryOptions,
  dims: values.dims.split(",").map(Number),
});
console.log(`reference JS dot loop, multiply-adds per ns: ${before.join(", ")} before, ${referenceSpeed().join(", ")} after`);
console.log(JSON.stringify(results));
