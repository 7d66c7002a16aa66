"use client";

import { useDeepMemoryToggle } from "@zip/deep-memory-react";
import type { ReactNode } from "react";
import { Badge } from "../ui/badge.js";

/** The page title, the live on/off badge, and whatever the app shows about who is signed in (`children`, right-aligned on wide screens). */
export function AdminHeader({ title, children }: { title: string; children?: ReactNode }) {
  const { enabled, isLoading } = useDeepMemoryToggle();
  return (
    <header className="border-b bg-card">
      <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-3 gap-y-2 px-3 py-4 sm:px-6">
        <h1 className="text-xl font-semibold tracking-tight sm:text-2xl">{title}</h1>
        <Badge variant={enabled ? "success" : "secondary"} data-testid="status-badge" aria-live="polite">
          <span className="sr-only">Deep memory is </span>
          {isLoading ? "Loading…" : enabled ? "Enabled" : "Disabled"}
        </Badge>
        {children}
      </div>
    </header>
  );
}
