"use client";

import { useDeepMemoryToggle } from "@zip/deep-memory-react";
import { useId, useState } from "react";
import { Alert, AlertDescription, AlertTitle, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, Input, Label } from "@zip/example-admin-ui/ui";
import type { ChatReply } from "@/lib/chat";

interface Exchange {
  question: string;
  reply: ChatReply;
}

/** The app's own chat (POST /api/chat): its retrieval uses deep memory whenever the toggle above is on. */
export function ChatCard({ className }: { className?: string }) {
  const { enabled } = useDeepMemoryToggle();
  const [message, setMessage] = useState("");
  const [history, setHistory] = useState<Exchange[]>([]);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();

  const send = async () => {
    const question = message.trim();
    if (!question) return;
    setPending(true);
    setError(null);
    try {
      const response = await fetch("/api/chat", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message: question }) });
      const body: unknown = await response.json();
      if (!response.ok) throw new Error((body as { error?: { message?: string } }).error?.message ?? `HTTP ${response.status}`);
      setHistory((previous) => [...previous, { question, reply: body as ChatReply }]);
      setMessage("");
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setPending(false);
    }
  };

  return (
    <Card className={className} aria-labelledby="chat-title">
      <CardHeader>
        <CardTitle id="chat-title">Chat</CardTitle>
        <CardDescription>
          Ask the knowledge base. Retrieval {enabled ? "goes through your deep memory." : "is plain hybrid search while deep memory is off."}
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        <ol className="flex flex-col gap-3" data-testid="chat-log" aria-live="polite">
          {history.map(({ question, reply }, i) => (
            <li key={i} className="flex flex-col gap-2" data-testid="chat-exchange">
              <p className="self-end rounded-lg bg-primary px-3 py-2 text-sm text-primary-foreground">{question}</p>
              <div className="flex flex-col gap-2 rounded-lg border bg-muted/40 px-3 py-2 text-sm">
                <p className="break-words">{reply.answer}</p>
                <div className="flex flex-wrap items-center gap-2 text-xs text-muted-foreground">
                  <Badge variant={reply.deepMemory.used ? "success" : "outline"} data-testid="chat-deep-memory">
                    {reply.deepMemory.used ? "Deep memory used" : "Plain search"}
                  </Badge>
                  <span>{reply.deepMemory.used ? reply.deepMemory.retrieval : (reply.deepMemory.reason ?? reply.deepMemory.retrieval)}</span>
                </div>
                <p className="text-xs text-muted-foreground">Sources: {reply.sources.map((s) => s.title).join(" · ")}</p>
              </div>
            </li>
          ))}
        </ol>
        {error && (
          <Alert variant="destructive">
            <AlertTitle>The chat failed</AlertTitle>
            <AlertDescription>{error}</AlertDescription>
          </Alert>
        )}
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(event) => {
            event.preventDefault();
            void send();
          }}
        >
          <div className="flex min-w-0 flex-[1_1_16rem] flex-col gap-1.5">
            <Label htmlFor={inputId}>Message</Label>
            <Input id={inputId} value={message} placeholder="e.g. Why did my stop fill below the stop price?" onChange={(event) => setMessage(event.target.value)} />
          </div>
          <Button type="submit" disabled={pending || !message.trim()}>
            {pending ? "Asking…" : "Ask"}
          </Button>
        </form>
      </CardContent>
    </Card>
  );
}
