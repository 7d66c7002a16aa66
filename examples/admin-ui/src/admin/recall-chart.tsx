"use client";

import type { RunMetricsWire } from "@zip/deep-memory-react";
import { useId, useLayoutEffect, useRef, useState } from "react";
import { Table } from "../ui/table.js";
import { percent } from "../lib/format.js";

const KS = [1, 3, 5, 10] as const;
const M = { top: 22, right: 8, bottom: 30, left: 40 };

/** The element's width in CSS pixels, so the chart is drawn at its real size and its labels stay legible on a phone. */
function useWidth<T extends HTMLElement>(fallback: number) {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(240, Math.round(element.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}

/**
 * Held-out recall@k without and with deep memory as grouped bars (plain SVG:
 * nothing to install, scales to any width), with the numbers in a table below.
 */
export function RecallChart({ metrics }: { metrics: RunMetricsWire }) {
  const id = useId();
  const [box, W] = useWidth<HTMLDivElement>(560);
  const H = Math.round(Math.min(260, Math.max(200, W * 0.42)));
  const plain = metrics.held_out.without_model;
  const deep = metrics.held_out.with_model;
  const rows = KS.map((k) => ({ k, plain: plain[`recall@${k}`] ?? 0, deep: deep[`recall@${k}`] ?? 0 }));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const group = plotW / rows.length;
  const bar = Math.min(44, group * 0.32);
  // Narrow charts drop the "%" of bar labels (the axis has it) so neighbouring labels do not collide.
  const compact = bar < 26;
  const y = (v: number) => M.top + plotH * (1 - v);
  const description = rows.map((r) => `recall@${r.k}: ${percent(r.plain)} without, ${percent(r.deep)} with deep memory`).join("; ");

  return (
    <figure className="flex flex-col gap-3" data-testid="recall-chart">
      <figcaption className="flex flex-wrap items-center justify-between gap-2 text-sm">
        <span className="font-medium">Recall on {metrics.held_out.query_count} held-out questions never used in training</span>
        <span className="flex gap-4 text-muted-foreground" aria-hidden="true">
          <span className="flex items-center gap-1.5">
            <span className="size-3 rounded-sm bg-chart-plain" /> Plain search
          </span>
          <span className="flex items-center gap-1.5">
            <span className="size-3 rounded-sm bg-chart-deep" /> Deep memory
          </span>
        </span>
      </figcaption>
      <div ref={box}>
        <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} className="block max-w-full" role="img" aria-labelledby={`${id}-title ${id}-desc`}>
          <title id={`${id}-title`}>Recall before and after deep memory</title>
          <desc id={`${id}-desc`}>{description}</desc>
          {[0, 0.25, 0.5, 0.75, 1].map((t) => (
            <g key={t}>
              <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} stroke="var(--color-border)" strokeDasharray={t === 0 ? undefined : "3 3"} />
              <text x={M.left - 6} y={y(t)} dy="0.32em" textAnchor="end" fontSize="11" fill="var(--color-muted-foreground)">
                {t * 100}%
              </text>
            </g>
          ))}
          {rows.map((r, i) => {
            const cx = M.left + group * i + group / 2;
            return (
              <g key={r.k}>
                <Bar x={cx - bar - 2} width={bar} value={r.plain} y={y} fill="var(--color-chart-plain)" compact={compact} />
                <Bar x={cx + 2} width={bar} value={r.deep} y={y} fill="var(--color-chart-deep)" compact={compact} />
                <text x={cx} y={H - M.bottom + 18} textAnchor="middle" fontSize="12" fill="var(--color-foreground)">
                  recall@{r.k}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <Table className="tabular-nums" data-testid="recall-table">
        <thead>
          <tr className="border-b text-muted-foreground">
            <th scope="col" className="py-1.5 pr-2 text-left font-medium">
              <span className="sr-only">Search</span>
            </th>
            {rows.map((r) => (
              <th key={r.k} scope="col" className="px-2 py-1.5 text-right font-medium">
                recall@{r.k}
              </th>
            ))}
            <th scope="col" className="px-2 py-1.5 text-right font-medium">
              nDCG@10
            </th>
          </tr>
        </thead>
        <tbody>
          <tr className="border-b">
            <th scope="row" className="py-1.5 pr-2 text-left font-normal whitespace-nowrap">
              Plain search
            </th>
            {rows.map((r) => (
              <td key={r.k} className="px-2 py-1.5 text-right">
                {percent(r.plain)}
              </td>
            ))}
            <td className="px-2 py-1.5 text-right">{percent(plain["ndcg@10"])}</td>
          </tr>
          <tr>
            <th scope="row" className="py-1.5 pr-2 text-left font-medium whitespace-nowrap">
              Deep memory
            </th>
            {rows.map((r) => (
              <td key={r.k} className="px-2 py-1.5 text-right font-medium">
                {percent(r.deep)}
              </td>
            ))}
            <td className="px-2 py-1.5 text-right font-medium">{percent(deep["ndcg@10"])}</td>
          </tr>
        </tbody>
      </Table>
    </figure>
  );
}

function Bar({ x, width, value, y, fill, compact }: { x: number; width: number; value: number; y: (v: number) => number; fill: string; compact: boolean }) {
  const top = y(value);
  return (
    <g>
      <rect x={x} y={top} width={width} height={Math.max(0, y(0) - top)} rx={3} fill={fill} />
      <text x={x + width / 2} y={top - 5} textAnchor="middle" fontSize={compact ? 10 : 11} fill="var(--color-foreground)">
        {Math.round(value * 100)}
        {compact ? "" : "%"}
      </text>
    </g>
  );
}
