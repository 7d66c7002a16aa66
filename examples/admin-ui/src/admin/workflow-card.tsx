"use client";

import {
  useGenerateTrainingData,
  useStartTraining,
  useTrainingRun,
  useTrainingRuns,
  type DeepMemoryClientError,
  type JobError,
  type NothingToGenerate,
  type TrainingRunResult,
} from "@zip/deep-memory-react";
import { useId, useState, type ReactNode } from "react";
import { Alert, AlertDescription, AlertTitle } from "../ui/alert.js";
import { Badge } from "../ui/badge.js";
import { Button } from "../ui/button.js";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card.js";
import { Input } from "../ui/input.js";
import { Label } from "../ui/label.js";
import { Progress } from "../ui/progress.js";
import { plural, shortId } from "../lib/format.js";
import { RecallChart } from "./recall-chart.js";
import { ReviewSection } from "./review-section.js";

export interface WorkflowCardProps {
  runId: string | null;
  runsLoading: boolean;
  onRunStarted: (runId: string) => void;
  className?: string;
}

/** Generate -> review -> train for one run, with live progress from the run's event stream. */
export function WorkflowCard({ runId, runsLoading, onRunStarted, className }: WorkflowCardProps) {
  const run = useTrainingRun(runId);
  const { activeRun } = useTrainingRuns();
  const generate = useGenerateTrainingData({ onSuccess: (started) => onRunStarted(started.training_run_id) });
  const train = useStartTraining({ onSuccess: (started) => onRunStarted(started.training_run_id) });
  const [questionsPerChunk, setQuestionsPerChunk] = useState("");
  const qpcId = useId();

  const status = run.status;
  const busy = run.isActive || activeRun !== null || generate.isPending || train.isPending;
  const hasPairs = status === "generated" || status === "training" || status === "completed" || (status === "failed" && run.pairCount > 0);
  const canTrain = status === "generated" || (status === "failed" && run.data?.failed_phase === "training");
  const generating = status === "pending" || status === "generating";

  const startGeneration = () => {
    const n = Number(questionsPerChunk);
    void generate.generate(questionsPerChunk !== "" && Number.isInteger(n) ? { questions_per_chunk: n } : {});
  };

  return (
    <Card className={className} aria-labelledby="workflow-title">
      <CardHeader>
        <CardTitle id="workflow-title">Training workflow</CardTitle>
        <CardDescription>Generate questions about your knowledge base, review them, then train and compare recall.</CardDescription>
      </CardHeader>
      <CardContent>
        <ol className="flex flex-col gap-6">
          <Step n={1} title="Generate training data">
            <form
              className="flex flex-wrap items-end gap-3"
              onSubmit={(event) => {
                event.preventDefault();
                startGeneration();
              }}
            >
              <div className="flex flex-col gap-1.5">
                <Label htmlFor={qpcId}>Questions per chunk</Label>
                <Input
                  id={qpcId}
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={10}
                  placeholder="default"
                  className="w-32"
                  value={questionsPerChunk}
                  onChange={(event) => setQuestionsPerChunk(event.target.value)}
                />
              </div>
              <Button type="submit" disabled={busy || runsLoading}>
                {generate.isPending ? "Starting…" : "Generate training data"}
              </Button>
            </form>
            {generate.nothingToGenerate ? (
              <NothingNew nothing={generate.nothingToGenerate} shown={generate.nothingToGenerate.runId === runId} onShow={onRunStarted} />
            ) : (
              <ErrorAlert title="Generation did not start" error={generate.error} />
            )}
            {generate.joined && generating && (
              <p role="status" className="text-sm text-muted-foreground" data-testid="joined">
                Already generating: following the job that was running.
              </p>
            )}
            {generating && (
              <LiveProgress
                run={run}
                label="Generating training data"
                detail={`${run.processed} of ${plural(run.total, "chunk")} · ${plural(run.pairCount, "pair")}`}
              />
            )}
            {hasPairs && (
              <p className="text-sm" data-testid="generated-summary">
                <strong>{plural(run.pairCount, "training pair")}</strong> from {plural(run.data?.statistics.chunks_with_pairs ?? 0, "chunk")}
                {run.data?.generation.model ? <span className="text-muted-foreground"> · {run.data.generation.model}</span> : null}
              </p>
            )}
          </Step>

          <Step n={2} title="Review">
            {hasPairs && run.data ? <ReviewSection run={run.data} /> : <Waiting>{runId ? "Available once generation finishes." : "Generate training data first."}</Waiting>}
          </Step>

          <Step n={3} title="Train">
            <div className="flex flex-wrap items-center gap-3">
              <Button disabled={!canTrain || busy || !runId} onClick={() => runId && void train.startTraining(runId)}>
                {train.isPending ? "Starting…" : "Start training"}
              </Button>
              {status === "completed" && <span className="text-sm text-muted-foreground">This run is trained. Generate again to train on new chunks.</span>}
            </div>
            <ErrorAlert title="Training did not start" error={train.error} />
            {train.joined && status === "training" && (
              <p role="status" className="text-sm text-muted-foreground">
                Already training this run: following that job.
              </p>
            )}
            {status === "training" && <LiveProgress run={run} label="Training deep memory" detail={trainingDetail(run)} />}
            {status === "completed" && run.metrics && (
              <div className="flex flex-col gap-3" data-testid="training-result">
                <div className="flex flex-wrap items-center gap-2">
                  <Badge variant={run.metrics.verdict === "improved" ? "success" : "warning"}>
                    {run.metrics.verdict === "improved" ? "Beats plain search" : "Kept disabled"}
                  </Badge>
                  <p className="text-sm">{run.metrics.reason}</p>
                </div>
                <RecallChart metrics={run.metrics} />
              </div>
            )}
          </Step>
        </ol>
        {status === "failed" && run.error && <ErrorAlert className="mt-6" title={`The run failed${run.data?.failed_phase ? ` while ${run.data.failed_phase}` : ""}`} error={run.error} />}
        {run.stream.connection === "reconnecting" && (
          <p role="status" className="mt-4 text-sm text-muted-foreground">
            Connection to the progress stream lost; reconnecting…
          </p>
        )}
      </CardContent>
    </Card>
  );
}

function trainingDetail(run: TrainingRunResult): string {
  switch (run.phase) {
    case "embedding":
      return `Embedding questions: ${run.processed} of ${run.total}`;
    case "training":
      return run.stream.epoch !== null ? `Fitting: epoch ${run.stream.epoch}${run.total ? ` of up to ${run.total}` : ""}` : "Fitting";
    case "evaluating":
      return `Evaluating on held-out questions: ${run.processed} of ${run.total}`;
    default:
      return "Starting…";
  }
}

function Step({ n, title, children }: { n: number; title: string; children: ReactNode }) {
  return (
    <li className="flex gap-3 sm:gap-4">
      <span aria-hidden="true" className="flex size-7 shrink-0 items-center justify-center rounded-full bg-primary/10 text-sm font-semibold text-primary">
        {n}
      </span>
      <div className="flex min-w-0 flex-1 flex-col gap-3">
        <h3 className="pt-0.5 font-medium">
          <span className="sr-only">Step {n}: </span>
          {title}
        </h3>
        {children}
      </div>
    </li>
  );
}

function Waiting({ children }: { children: ReactNode }) {
  return <p className="text-sm text-muted-foreground">{children}</p>;
}

function LiveProgress({ run, label, detail }: { run: TrainingRunResult; label: string; detail: string }) {
  return (
    <div className="flex flex-col gap-2" data-testid="live-progress">
      <Progress value={run.percent} label={label} valueText={`${Math.round(run.percent)}%, ${detail}`} />
      <p className="flex justify-between gap-2 text-sm text-muted-foreground" aria-live="polite">
        <span>{detail}</span>
        <span className="tabular-nums">{Math.round(run.percent)}%</span>
      </p>
    </div>
  );
}

/** Generate found every chunk covered: not a failure, a pointer to the run to train (or to look at). */
function NothingNew({ nothing, shown, onShow }: { nothing: NothingToGenerate; shown: boolean; onShow: (runId: string) => void }) {
  const { runId, runStatus } = nothing;
  return (
    <Alert variant="info" data-testid="nothing-to-generate">
      <AlertTitle>Everything is covered</AlertTitle>
      <AlertDescription>
        {runId && runStatus === "generated"
          ? `Every chunk already has training questions: train run ${shortId(runId)}.`
          : runId
            ? `Every chunk already has training questions (run ${shortId(runId)}, ${runStatus}). Add chunks to the knowledge base to generate more.`
            : nothing.message}
      </AlertDescription>
      {runId && !shown && (
        <Button variant="outline" size="sm" className="mt-2" onClick={() => onShow(runId)}>
          Show run {shortId(runId)}
        </Button>
      )}
    </Alert>
  );
}

function ErrorAlert({ title, error, className }: { title: string; error: DeepMemoryClientError | JobError | null; className?: string }) {
  if (!error) return null;
  const retryAfterMs = "retryAfterMs" in error ? error.retryAfterMs : null;
  return (
    <Alert variant="destructive" className={className}>
      <AlertTitle>{title}</AlertTitle>
      <AlertDescription>
        {error.message}
        {retryAfterMs !== null && retryAfterMs > 0 && !/try again/i.test(error.message) ? ` Try again in ${Math.ceil(retryAfterMs / 1000)} s.` : ""}{" "}
        <span className="font-mono text-xs opacity-80">({error.code})</span>
      </AlertDescription>
    </Alert>
  );
}
