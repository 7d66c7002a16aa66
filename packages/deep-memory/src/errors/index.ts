export * from "./errors.js";
export * from "./http-status.js";
export * from "./validation.js";
export * from "./storable-text.js";
