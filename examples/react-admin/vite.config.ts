import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defaultClientConditions, defineConfig } from "vite";

// `pnpm dev` proxies the API to the example server (pnpm example:admin starts both).
const apiTarget = process.env.API_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  // Workspace packages resolve to their source, so the admin builds without building them first.
  resolve: { conditions: ["@zip/source", ...defaultClientConditions] },
  server: {
    port: 5173,
    proxy: { "/v1": { target: apiTarget, changeOrigin: false } },
  },
  build: {
    target: "es2022",
    sourcemap: true,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod ships comments Rollup cannot place; harmless and not ours to fix.
        if (warning.message.includes("contains an annotation that Rollup cannot interpret")) return;
        warn(warning);
      },
    },
  },
});
