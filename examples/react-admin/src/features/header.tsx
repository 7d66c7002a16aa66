import { useDeepMemoryToggle } from "@zip/deep-memory-react";
import { Badge } from "../components/ui/badge.js";
import { shortId } from "../lib/format.js";

export function Header({ devUser }: { devUser: string | null }) {
  const { enabled, isLoading } = useDeepMemoryToggle();
  return (
    <header className="border-b bg-card">
      <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-3 gap-y-1 px-3 py-4 sm:px-6">
        <h1 className="text-xl font-semibold tracking-tight sm:text-2xl">Deep Memory Training</h1>
        <Badge variant={enabled ? "success" : "secondary"} data-testid="status-badge" aria-live="polite">
          <span className="sr-only">Deep memory is </span>
          {isLoading ? "Loading…" : enabled ? "Enabled" : "Disabled"}
        </Badge>
        <p className="w-full text-sm text-muted-foreground sm:ml-auto sm:w-auto">
          Acting as {devUser ? <code title={devUser}>user {shortId(devUser)}</code> : "the demo user"}
        </p>
      </div>
    </header>
  );
}
