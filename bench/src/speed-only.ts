// The engine-speed figures alone (no data set): tsx --conditions=@zip/source bench/src/speed-only.ts
import { engineSpeed } from "./engine-speed.js";

const results = await engineSpeed({ seed: Number(process.env.SEED ?? 42), log: (m) => console.log(m) });
console.log(JSON.stringify(results));
