export { createApp, API_PATHS, type AppOptions } from "./app.js";
export { startServer, type StartOptions, type RunningServer } from "./server.js";
export { openBackend, providersFromEnv, exampleTrainerDefaults, type Backend, type BackendOptions, type Providers } from "./backend.js";
export { devAuth, authFromEnv, DEMO_USER_ID, DEV_USER_HEADER, type AuthScheme } from "./auth.js";
export { createChatRouter, chatRequestSchema, type ChatRequest, type ChatResponse, type ChatSource } from "./chat.js";
export { ExtractiveAnswerer, OpenAIAnswerer, type Answerer } from "./answer.js";
export { chunkNotes, indexPassages, type Passage } from "./knowledge-base.js";
