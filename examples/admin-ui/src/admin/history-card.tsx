"use client";

import { useTrainingRuns, type RunWire } from "@zip/deep-memory-react";
import { Badge, type BadgeProps } from "../ui/badge.js";
import { Button } from "../ui/button.js";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card.js";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "../ui/table.js";
import { formatDateTime, percent } from "../lib/format.js";

const statusBadge: Record<RunWire["status"], { label: string; variant: BadgeProps["variant"] }> = {
  pending: { label: "Starting", variant: "default" },
  generating: { label: "Generating", variant: "default" },
  generated: { label: "Ready to train", variant: "secondary" },
  training: { label: "Training", variant: "default" },
  completed: { label: "Completed", variant: "success" },
  failed: { label: "Failed", variant: "destructive" },
};

export function HistoryCard({ selectedRunId, onSelect, className }: { selectedRunId: string | null; onSelect: (runId: string) => void; className?: string }) {
  const { runs, total, isLoading, error } = useTrainingRuns();
  return (
    <Card className={className} aria-labelledby="history-title">
      <CardHeader>
        <CardTitle id="history-title">Training history</CardTitle>
        <CardDescription>
          {total > runs.length ? `The newest ${runs.length} of ${total} runs.` : "Every run, newest first."} Pick one to review it above.
        </CardDescription>
      </CardHeader>
      <CardContent>
        {error && !runs.length ? (
          <p role="alert" className="text-sm text-destructive">
            Couldn't load the runs: {error.message}
          </p>
        ) : isLoading ? (
          <p className="text-sm text-muted-foreground">Loading runs…</p>
        ) : runs.length === 0 ? (
          <p className="text-sm text-muted-foreground">No runs yet. Generate training data to start one.</p>
        ) : (
          <Table data-testid="history">
            <TableHeader>
              <TableRow>
                <TableHead>Started</TableHead>
                <TableHead>Status</TableHead>
                <TableHead className="text-right">Pairs</TableHead>
                <TableHead className="text-right">Recall@10</TableHead>
                <TableHead>Result</TableHead>
                <TableHead>
                  <span className="sr-only">Actions</span>
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {runs.map((run) => {
                const badge = statusBadge[run.status];
                const m = run.metrics;
                const selected = run.id === selectedRunId;
                return (
                  <TableRow key={run.id} data-selected={selected}>
                    <TableCell className="whitespace-nowrap">{formatDateTime(run.created_at)}</TableCell>
                    <TableCell>
                      <Badge variant={badge.variant}>{badge.label}</Badge>
                    </TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="history-pairs">
                      {run.pair_count.toLocaleString()}
                    </TableCell>
                    <TableCell className="text-right whitespace-nowrap tabular-nums">
                      {m ? `${percent(m.held_out.without_model["recall@10"])} → ${percent(m.held_out.with_model["recall@10"])}` : "–"}
                    </TableCell>
                    <TableCell className="min-w-40 text-sm">
                      {m ? (m.verdict === "improved" ? "Beats plain search" : "Kept disabled") : run.status === "failed" ? (run.error ?? "Failed") : "–"}
                    </TableCell>
                    <TableCell className="text-right">
                      <Button
                        variant={selected ? "secondary" : "outline"}
                        size="sm"
                        aria-pressed={selected}
                        aria-label={`Review the run started ${formatDateTime(run.created_at)}`}
                        onClick={() => onSelect(run.id)}
                      >
                        {selected ? "Shown" : "Review"}
                      </Button>
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}
