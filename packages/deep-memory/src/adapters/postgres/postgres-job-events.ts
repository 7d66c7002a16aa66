import type pg from "pg";
import type { JobEventNotifier } from "../job-events/sql-job-event-log.js";

const channel = "deep_memory_job_events";

/**
 * LISTEN deep_memory_job_events on one connection of the pool, held for as
 * long as it listens. A dropped connection is replaced after a second; what
 * was appended meanwhile reaches watchers by their poll.
 */
export class PostgresJobEventNotifier implements JobEventNotifier {
  constructor(
    private readonly pool: pg.Pool,
    private readonly reconnectMs = 1000,
  ) {}

  async listen(onJob: (jobId: string) => void): Promise<() => Promise<void>> {
    let stopped = false;
    let current: pg.PoolClient | null = null;
    let retry: NodeJS.Timeout | null = null;
    const onNotification = (message: pg.Notification) => {
      if (message.channel === channel && message.payload) onJob(message.payload);
    };
    const open = async (): Promise<void> => {
      const client = await this.pool.connect();
      let dropped = false;
      const drop = (error?: Error) => {
        if (dropped) return;
        dropped = true;
        const wasListening = current === client;
        client.off("notification", onNotification);
        client.release(error ?? true);
        if (wasListening) current = null;
        if (!stopped && wasListening) schedule();
      };
      client.on("error", drop);
      client.on("notification", onNotification);
      try {
        await client.query(`listen ${channel}`);
      } catch (error) {
        drop(error as Error);
        throw error;
      }
      current = client;
      if (stopped) await stop();
    };
    const schedule = () => {
      retry = setTimeout(() => {
        retry = null;
        open().catch(() => {
          if (!stopped) schedule();
        });
      }, this.reconnectMs);
      retry.unref?.();
    };
    const stop = async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      const client = current;
      current = null;
      if (!client) return;
      client.off("notification", onNotification);
      try {
        await client.query(`unlisten ${channel}`);
        client.release();
      } catch (error) {
        client.release(error as Error);
      }
    };
    await open();
    return stop;
  }
}
