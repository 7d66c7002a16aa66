"use client";

import { DeepMemoryProvider, useTrainingRuns } from "@zip/deep-memory-react";
import { useState } from "react";
import { ChatCard } from "./chat-card";
import { Header } from "./header";
import { HistoryCard } from "./history-card";
import { SettingsCard } from "./settings-card";
import { WorkflowCard } from "./workflow-card";

/** The API of app/api/deep-memory/[...path]/route.ts, on this origin: the session cookie goes along, EventSource included. */
const API_BASE = "/api/deep-memory";

export function Dashboard(props: { userLabel: string; signOut: (() => Promise<void>) | null }) {
  return (
    <DeepMemoryProvider baseUrl={API_BASE}>
      <DashboardBody {...props} />
    </DeepMemoryProvider>
  );
}

function DashboardBody({ userLabel, signOut }: { userLabel: string; signOut: (() => Promise<void>) | null }) {
  // The run the workflow card shows: one picked in the history, else the one a job works on (also after a reload), else the newest.
  const [pickedRunId, setPickedRunId] = useState<string | null>(null);
  const runs = useTrainingRuns();
  const runId = pickedRunId ?? runs.activeRun?.id ?? runs.runs[0]?.id ?? null;

  return (
    <div className="min-h-screen">
      <Header userLabel={userLabel} signOut={signOut} />
      <main className="mx-auto grid max-w-6xl grid-cols-1 items-start gap-4 p-3 sm:gap-6 sm:p-6 lg:grid-cols-3">
        <SettingsCard className="lg:col-span-1" />
        <WorkflowCard className="lg:col-span-2" runId={runId} runsLoading={runs.isLoading} onRunStarted={setPickedRunId} />
        <HistoryCard className="lg:col-span-3" selectedRunId={runId} onSelect={setPickedRunId} />
        <ChatCard className="lg:col-span-3" />
      </main>
    </div>
  );
}
