"use client";

import { useDeepMemoryToggle } from "@zip/deep-memory-react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";

export function Header({ userLabel, signOut }: { userLabel: string; signOut: (() => Promise<void>) | null }) {
  const { enabled, isLoading } = useDeepMemoryToggle();
  return (
    <header className="border-b bg-card">
      <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-3 gap-y-2 px-3 py-4 sm:px-6">
        <h1 className="text-xl font-semibold tracking-tight sm:text-2xl">Deep Memory</h1>
        <Badge variant={enabled ? "success" : "secondary"} data-testid="status-badge" aria-live="polite">
          <span className="sr-only">Deep memory is </span>
          {isLoading ? "Loading…" : enabled ? "Enabled" : "Disabled"}
        </Badge>
        <div className="flex w-full min-w-0 items-center gap-2 text-sm text-muted-foreground sm:ml-auto sm:w-auto">
          <span className="truncate" data-testid="signed-in-as">
            Signed in as {userLabel}
          </span>
          {signOut && (
            <form action={signOut}>
              <Button type="submit" variant="outline" size="sm">
                Sign out
              </Button>
            </form>
          )}
        </div>
      </div>
    </header>
  );
}
