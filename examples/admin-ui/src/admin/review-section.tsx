"use client";

import type { RunDetailResponse } from "@zip/deep-memory-react";
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from "../ui/table.js";

/** What a reviewer checks before training: how many questions, how they spread over chunks, and a sample of them. */
export function ReviewSection({ run }: { run: RunDetailResponse }) {
  // Open while the run waits for review; folded away once it is trained.
  const reviewing = run.status === "generated";
  const s = run.statistics;
  const stats: [string, string][] = [
    ["Training pairs", s.pair_count.toLocaleString()],
    ["Chunks with questions", s.chunks_with_pairs.toLocaleString()],
    ["Questions per chunk", `${s.pairs_per_chunk.mean.toFixed(1)} (${s.pairs_per_chunk.min}–${s.pairs_per_chunk.max})`],
    ["Question length", `${Math.round(s.question_length.mean)} characters on average`],
    ["Duplicates removed", s.duplicates_removed.toLocaleString()],
    ["Chunks skipped", s.chunks_skipped.toLocaleString()],
    ["Covered by earlier training", s.chunks_already_covered.toLocaleString()],
  ];
  return (
    <div className="flex flex-col gap-4" data-testid="review">
      <dl className="grid grid-cols-2 gap-2 sm:grid-cols-4">
        {stats.map(([label, value]) => (
          <div key={label} className="rounded-lg border bg-muted/40 p-2.5">
            <dt className="text-xs text-muted-foreground">{label}</dt>
            <dd className="text-sm font-semibold">{value}</dd>
          </div>
        ))}
      </dl>
      {s.cap_reached && <p className="text-sm text-muted-foreground">Generation stopped at the pair cap.</p>}
      <details open={reviewing}>
        <summary className="cursor-pointer rounded-sm text-sm font-medium focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
          Sample questions ({run.sample_pairs.length})
        </summary>
        <Table className="mt-2">
          <TableCaption>
            {run.sample_pairs.length} of {s.pair_count.toLocaleString()} questions, sampled across the whole run.
          </TableCaption>
          <TableHeader>
            <TableRow>
              <TableHead className="w-8">#</TableHead>
              <TableHead>Question</TableHead>
              <TableHead>Chunk</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {run.sample_pairs.map((pair, i) => (
              <TableRow key={pair.id}>
                <TableCell className="text-muted-foreground tabular-nums">{i + 1}</TableCell>
                <TableCell className="min-w-48">{pair.question}</TableCell>
                <TableCell>
                  <code className="text-xs whitespace-nowrap">{pair.chunk_id}</code>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </details>
    </div>
  );
}
