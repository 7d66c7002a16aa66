import { cn } from "../../lib/utils.js";

export interface ProgressProps {
  /** 0..100 */
  value: number;
  /** What is progressing, for screen readers. */
  label: string;
  /** e.g. "34 of 85 chunks", announced instead of a bare percentage. */
  valueText?: string;
  className?: string;
}

export function Progress({ value, label, valueText, className }: ProgressProps) {
  const clamped = Math.max(0, Math.min(100, Number.isFinite(value) ? value : 0));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(clamped)}
      aria-valuetext={valueText}
      className={cn("relative h-3 w-full overflow-hidden rounded-full bg-secondary", className)}
    >
      <div className="h-full bg-primary transition-[width] duration-300 ease-out" style={{ width: `${clamped}%` }} />
    </div>
  );
}
