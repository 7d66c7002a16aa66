import type { HTMLAttributes } from "react";
import { cn } from "../../lib/utils.js";

const variants = {
  default: "bg-card text-card-foreground",
  destructive: "border-destructive/50 bg-destructive/5 text-destructive [&_p]:text-destructive/90",
  info: "border-primary/30 bg-primary/5",
} as const;

export interface AlertProps extends HTMLAttributes<HTMLDivElement> {
  variant?: keyof typeof variants;
}

/** Errors use role="alert" so they are announced when they appear. */
export function Alert({ className, variant = "default", role, ...props }: AlertProps) {
  return (
    <div
      role={role ?? (variant === "destructive" ? "alert" : "status")}
      className={cn("relative w-full rounded-lg border px-4 py-3 text-sm", variants[variant], className)}
      {...props}
    />
  );
}

export function AlertTitle({ className, ...props }: HTMLAttributes<HTMLParagraphElement>) {
  return <p className={cn("mb-1 font-semibold leading-snug", className)} {...props} />;
}

export function AlertDescription({ className, ...props }: HTMLAttributes<HTMLParagraphElement>) {
  return <p className={cn("text-sm leading-relaxed", className)} {...props} />;
}
