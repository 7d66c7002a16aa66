import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

// The hooks package's React tests, run from here so that every import of react
// and react-dom (the hooks' source included, through dedupe) is React 18.
export default defineProject({
  root: fileURLToPath(new URL(".", import.meta.url)),
  resolve: { conditions: ["@zip/source"], dedupe: ["react", "react-dom", "@testing-library/react", "@testing-library/dom"] },
  ssr: { resolve: { conditions: ["@zip/source"] } },
  test: {
    name: "react@18",
    environment: "jsdom",
    dir: fileURLToPath(new URL("../src", import.meta.url)),
    include: ["react/**/*.test.tsx", "server-render.test.tsx"],
    setupFiles: [fileURLToPath(new URL("./assert-react18.ts", import.meta.url))],
    server: { deps: { inline: [/@zip\//, /@testing-library/] } },
  },
});
