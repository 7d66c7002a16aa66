"use client";

import { DeepMemoryProvider } from "@zip/deep-memory-react";
import { AdminScreen } from "@zip/example-admin-ui";
import { ChatCard } from "./chat-card";
import { Header } from "./header";

/** The API of app/api/deep-memory/[...path]/route.ts, on this origin: the session cookie goes along, EventSource included. */
const API_BASE = "/api/deep-memory";

export function Dashboard(props: { userLabel: string; signOut: (() => Promise<void>) | null }) {
  return (
    <DeepMemoryProvider baseUrl={API_BASE}>
      <AdminScreen header={<Header {...props} />}>
        <ChatCard className="lg:col-span-3" />
      </AdminScreen>
    </DeepMemoryProvider>
  );
}
