import { useDeepMemorySearch } from "../react/use-deep-memory-search.js";
import { useDeepMemorySettings } from "../react/use-deep-memory-settings.js";
import { useDeepMemoryToggle } from "../react/use-deep-memory-toggle.js";
import { useGenerateTrainingData } from "../react/use-generate-training-data.js";
import { useJobEvents } from "../react/use-job-events.js";
import { useStartTraining } from "../react/use-start-training.js";
import { useTrainingRun } from "../react/use-training-run.js";
import { useTrainingRuns } from "../react/use-training-runs.js";

/** A small admin screen using every hook, for the server-rendering and hydration tests. */
export function AdminScreen({ runId, jobId }: { runId: string; jobId: string }) {
  const toggle = useDeepMemoryToggle();
  const settings = useDeepMemorySettings();
  const runs = useTrainingRuns();
  const run = useTrainingRun(runId);
  const events = useJobEvents(jobId);
  const generate = useGenerateTrainingData();
  const train = useStartTraining();
  const search = useDeepMemorySearch();
  return (
    <main>
      <p>{toggle.isLoading ? "settings loading" : `deep memory ${toggle.enabled ? "on" : "off"}`}</p>
      <p>{settings.data ? `new chunks ${settings.data.new_chunks_since_last_training}` : "no settings yet"}</p>
      <p>{runs.isLoading ? "runs loading" : `${runs.total} runs`}</p>
      <p>{run.isLoading ? "run loading" : `run ${run.status} ${run.percent}%`}</p>
      <p>{`job ${events.status} ${events.connection}`}</p>
      <button type="button" disabled={generate.isPending} onClick={() => void generate.generate()}>
        Generate
      </button>
      <button type="button" disabled={train.isPending} onClick={() => void train.startTraining(runId)}>
        Train
      </button>
      <p>{`${search.withDeepMemory.length} results`}</p>
    </main>
  );
}
