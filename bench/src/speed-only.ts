// The engine-speed figures alone (no data set): tsx --conditions=@zip/source bench/src/speed-only.ts
import { engineSpeed, referenceSpeed } from "./engine-speed.js";

const before = referenceSpeed();
const results = await engineSpeed({ seed: Number(process.env.SEED ?? 42), log: (m) => console.log(m) });
console.log(`reference JS dot loop, multiply-adds per ns: ${before.join(", ")} before, ${referenceSpeed().join(", ")} after`);
console.log(JSON.stringify(results));
