import { useTrainingRuns } from "@zip/deep-memory-react";
import { useState } from "react";
import { Header } from "./features/header.js";
import { HistoryCard } from "./features/history-card.js";
import { SearchCard } from "./features/search-card.js";
import { SettingsCard } from "./features/settings-card.js";
import { WorkflowCard } from "./features/workflow-card.js";

/** The plan's deep-memory dashboard, built only from @zip/deep-memory-react's hooks. */
export function App({ devUser }: { devUser: string | null }) {
  // The run the workflow card shows: one picked in the history, else the one a job works on (also after a reload), else the newest.
  const [pickedRunId, setPickedRunId] = useState<string | null>(null);
  const runs = useTrainingRuns();
  const runId = pickedRunId ?? runs.activeRun?.id ?? runs.runs[0]?.id ?? null;

  return (
    <div className="min-h-screen">
      <Header devUser={devUser} />
      <main className="mx-auto grid max-w-6xl grid-cols-1 items-start gap-4 p-3 sm:gap-6 sm:p-6 lg:grid-cols-3">
        <SettingsCard className="lg:col-span-1" />
        <WorkflowCard className="lg:col-span-2" runId={runId} runsLoading={runs.isLoading} onRunStarted={setPickedRunId} />
        <HistoryCard className="lg:col-span-3" selectedRunId={runId} onSelect={setPickedRunId} />
        <SearchCard className="lg:col-span-3" />
      </main>
    </div>
  );
}
