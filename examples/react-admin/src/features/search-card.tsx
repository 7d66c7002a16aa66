import { useDeepMemorySearch, type SearchHitWire } from "@zip/deep-memory-react";
import { useId, useState } from "react";
import { Alert, AlertDescription, AlertTitle, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, cn, Input, Label } from "@zip/example-admin-ui/ui";

const K_CHOICES = [3, 5, 10] as const;

export function SearchCard({ className }: { className?: string }) {
  const [query, setQuery] = useState("");
  const [k, setK] = useState<number>(5);
  const search = useDeepMemorySearch();
  const queryId = useId();
  const kId = useId();
  const data = search.data;
  const changed = data ? search.withDeepMemory.filter((hit, i) => search.withoutDeepMemory[i]?.id !== hit.id).length : 0;

  return (
    <Card className={className} aria-labelledby="search-title">
      <CardHeader>
        <CardTitle id="search-title">Compare search</CardTitle>
        <CardDescription>
          The same query with and without deep memory, side by side. The comparison uses the latest model that beat plain search even while deep memory is
          off; chat uses it only when it is on.
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        <form
          role="search"
          className="flex flex-wrap items-end gap-3"
          onSubmit={(event) => {
            event.preventDefault();
            if (query.trim()) void search.search(query.trim(), { k });
          }}
        >
          <div className="flex min-w-0 flex-[1_1_16rem] flex-col gap-1.5">
            <Label htmlFor={queryId}>Query</Label>
            <Input id={queryId} type="search" value={query} placeholder="e.g. Why did my stop fill below the stop price?" onChange={(e) => setQuery(e.target.value)} />
          </div>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor={kId}>Results</Label>
            <select
              id={kId}
              value={k}
              onChange={(e) => setK(Number(e.target.value))}
              className="h-10 rounded-md border border-input bg-background px-3 text-sm shadow-sm focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring focus-visible:ring-offset-2"
            >
              {K_CHOICES.map((n) => (
                <option key={n} value={n}>
                  Top {n}
                </option>
              ))}
            </select>
          </div>
          <Button type="submit" disabled={!query.trim() || search.isPending}>
            {search.isPending ? "Searching…" : "Compare"}
          </Button>
        </form>

        {search.error && (
          <Alert variant="destructive">
            <AlertTitle>Search failed</AlertTitle>
            <AlertDescription>{search.error.message}</AlertDescription>
          </Alert>
        )}

        {data && (
          <>
            <p className="text-sm" aria-live="polite" data-testid="search-summary">
              {search.deepMemoryApplied
                ? changed === 0
                  ? "Deep memory applied: the same ranking as plain search for this query."
                  : `Deep memory applied: ${changed} of ${search.withDeepMemory.length} positions changed.`
                : `Deep memory not applied: ${data.reason ?? "no model"}.`}
            </p>
            <div className="grid gap-4 md:grid-cols-2">
              <ResultList title="Without deep memory" hits={search.withoutDeepMemory} testId="results-plain" />
              <ResultList title="With deep memory" hits={search.withDeepMemory} compareTo={search.deepMemoryApplied ? search.withoutDeepMemory : undefined} testId="results-deep" />
            </div>
          </>
        )}
      </CardContent>
    </Card>
  );
}

function ResultList({ title, hits, compareTo, testId }: { title: string; hits: SearchHitWire[]; compareTo?: SearchHitWire[] | undefined; testId: string }) {
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} className="min-w-0 rounded-lg border p-3" data-testid={testId}>
      <h3 id={headingId} className="mb-2 text-sm font-semibold">
        {title}
      </h3>
      <ol className="flex flex-col gap-2">
        {hits.map((hit, i) => {
          const title = typeof hit.metadata?.title === "string" ? hit.metadata.title : hit.id;
          return (
            <li key={hit.id} className="flex gap-2 rounded-md bg-muted/40 p-2" data-hit-id={hit.id}>
              <span className="w-5 shrink-0 text-right text-sm font-semibold text-muted-foreground tabular-nums">{i + 1}</span>
              <div className="min-w-0 flex-1">
                <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
                  <span className="text-sm font-medium">{title}</span>
                  <code className="text-xs text-muted-foreground">{hit.id}</code>
                  {compareTo && <Movement from={compareTo.findIndex((h) => h.id === hit.id)} to={i} />}
                  <span className="ml-auto text-xs text-muted-foreground tabular-nums">{hit.score.toFixed(3)}</span>
                </div>
                <p className="mt-1 line-clamp-2 text-xs text-muted-foreground">{hit.text.slice(title.length + 2)}</p>
              </div>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

/** How far a result moved compared with plain search; -1 means plain search did not return it. */
function Movement({ from, to }: { from: number; to: number }) {
  if (from === to) return null;
  const label = from === -1 ? "new" : from > to ? `▲ ${from - to}` : `▼ ${to - from}`;
  const spoken = from === -1 ? "not in the plain results" : from > to ? `up ${from - to} from plain search` : `down ${to - from} from plain search`;
  return (
    <Badge variant={from === -1 || from > to ? "success" : "outline"} className={cn("px-1.5 py-0 text-[11px]")} data-testid="rank-change" aria-label={spoken} title={spoken}>
      {label}
    </Badge>
  );
}
