"use client";

import { useDeepMemoryToggle, useTrainingRun, type DeepMemoryClientError } from "@zip/deep-memory-react";
import { useState } from "react";
import { Alert, AlertDescription, AlertTitle } from "../ui/alert.js";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card.js";
import { Label } from "../ui/label.js";
import { Switch } from "../ui/switch.js";
import { formatDateTime, plural } from "../lib/format.js";

export function SettingsCard({ className }: { className?: string }) {
  // The toggle rolls back by itself when the server refuses; this keeps the refusal on screen until the next try.
  const [refusal, setRefusal] = useState<DeepMemoryClientError | null>(null);
  const toggle = useDeepMemoryToggle({ onError: setRefusal, onSuccess: () => setRefusal(null) });
  const lastRun = useTrainingRun(toggle.lastTrainingRunId, { live: false });
  const metrics = lastRun.metrics;
  const loadError = !refusal && !toggle.settings ? toggle.error : null;

  return (
    <Card className={className} aria-labelledby="settings-title">
      <CardHeader>
        <CardTitle id="settings-title">Settings</CardTitle>
        <CardDescription>Whether chat and search use your trained deep memory.</CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        <div className="flex items-start justify-between gap-4">
          <div className="flex flex-col gap-1">
            <Label htmlFor="deep-memory-switch">Use deep memory</Label>
            <p id="deep-memory-switch-hint" className="text-sm text-muted-foreground">
              {toggle.enabled
                ? "Retrieval applies the trained model for your account."
                : toggle.canEnable
                  ? "A trained model is ready to use."
                  : "Train a model that beats plain search first."}
            </p>
          </div>
          <Switch
            id="deep-memory-switch"
            aria-describedby="deep-memory-switch-hint"
            checked={toggle.enabled}
            disabled={toggle.isLoading || toggle.isUpdating}
            onCheckedChange={(enabled) => {
              setRefusal(null);
              void toggle.setEnabled(enabled);
            }}
          />
        </div>

        {refusal && (
          <Alert variant="destructive" data-testid="toggle-error">
            <AlertTitle>{refusal.code === "NO_TRAINED_MODEL" ? "Deep memory can't be enabled yet" : "The setting was not changed"}</AlertTitle>
            <AlertDescription>{refusal.message}</AlertDescription>
          </Alert>
        )}
        {loadError && (
          <Alert variant="destructive">
            <AlertTitle>Couldn't load the settings</AlertTitle>
            <AlertDescription>{loadError.message}</AlertDescription>
          </Alert>
        )}

        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
          <dt className="text-muted-foreground">Last trained</dt>
          <dd data-testid="last-trained">{formatDateTime(toggle.lastTrainedAt)}</dd>
          <dt className="text-muted-foreground">Training pairs</dt>
          <dd data-testid="pair-count">{metrics ? (metrics.train_pairs + metrics.held_out_pairs).toLocaleString() : "–"}</dd>
          <dt className="text-muted-foreground">Knowledge base</dt>
          <dd data-testid="new-chunks">
            {toggle.isLoading ? "…" : `${plural(toggle.newChunksSinceLastTraining, "new chunk")} since last training`}
          </dd>
        </dl>
        {!toggle.canEnable && !toggle.enabled && toggle.cannotEnableReason && !refusal && (
          <p className="text-sm text-muted-foreground">{toggle.cannotEnableReason}</p>
        )}
      </CardContent>
    </Card>
  );
}
