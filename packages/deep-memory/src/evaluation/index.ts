export * from "./metrics.js";
export * from "./split.js";
export * from "./vector-math.js";
