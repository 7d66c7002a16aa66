import { DeepMemoryProvider } from "@zip/deep-memory-react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";
import { apiOrigin, devUserFromLocation } from "./lib/identity.js";
import "@zip/example-admin-ui/styles.css";

const devUser = devUserFromLocation();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <DeepMemoryProvider
      baseUrl={`${apiOrigin}/v1/api/deep-memory`}
      // The plan serves job events apart from the other routes.
      eventsUrl={`${apiOrigin}/v1/api/events/stream`}
      headers={devUser ? { "x-user-id": devUser } : undefined}
    >
      <App devUser={devUser} />
    </DeepMemoryProvider>
  </StrictMode>,
);
