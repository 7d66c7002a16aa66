"use client";

import * as ProgressPrimitive from "@radix-ui/react-progress";
import { cn } from "../lib/utils.js";

export interface ProgressProps {
  /** 0..100 */
  value: number;
  /** What is progressing, for screen readers. */
  label: string;
  /** e.g. "40%, 34 of 85 chunks", announced instead of a bare percentage. */
  valueText?: string;
  className?: string;
}

/** Radix's progress bar, announcing a whole-number percentage (or `valueText`). */
export function Progress({ value, label, valueText, className }: ProgressProps) {
  const clamped = Math.max(0, Math.min(100, Number.isFinite(value) ? value : 0));
  return (
    <ProgressPrimitive.Root
      value={clamped}
      max={100}
      aria-label={label}
      aria-valuenow={Math.round(clamped)}
      getValueLabel={() => valueText ?? `${Math.round(clamped)}%`}
      className={cn("relative h-3 w-full overflow-hidden rounded-full bg-secondary", className)}
    >
      <ProgressPrimitive.Indicator className="h-full bg-primary transition-[width] duration-300 ease-out" style={{ width: `${clamped}%` }} />
    </ProgressPrimitive.Root>
  );
}
