"use client";

import { useTrainingRuns } from "@zip/deep-memory-react";
import { useState, type ReactNode } from "react";
import { HistoryCard } from "./history-card.js";
import { SettingsCard } from "./settings-card.js";
import { WorkflowCard } from "./workflow-card.js";

/**
 * The plan's deep-memory screen: settings, the generate -> review -> train
 * workflow and the history, under the app's `header`. `children` is the app's
 * own card below them (a chat, a search comparison); give it
 * `className="lg:col-span-3"` to span the grid. Must sit inside a
 * `DeepMemoryProvider`.
 */
export function AdminScreen({ header, children }: { header: ReactNode; children?: ReactNode }) {
  // The run the workflow card shows: one picked in the history, else the one a job works on (also after a reload), else the newest.
  const [pickedRunId, setPickedRunId] = useState<string | null>(null);
  const runs = useTrainingRuns();
  const runId = pickedRunId ?? runs.activeRun?.id ?? runs.runs[0]?.id ?? null;

  return (
    <div className="min-h-screen">
      {header}
      <main className="mx-auto grid max-w-6xl grid-cols-1 items-start gap-4 p-3 sm:gap-6 sm:p-6 lg:grid-cols-3">
        <SettingsCard className="lg:col-span-1" />
        <WorkflowCard className="lg:col-span-2" runId={runId} runsLoading={runs.isLoading} onRunStarted={setPickedRunId} />
        <HistoryCard className="lg:col-span-3" selectedRunId={runId} onSelect={setPickedRunId} />
        {children}
      </main>
    </div>
  );
}
