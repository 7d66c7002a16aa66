import { hostname } from "node:os";

/**
 * Who holds a run's lease, and whether that holder is certainly gone.
 *
 * A lease owner reads `<instanceId>@<bootId>/<jobId>`: the instance id names
 * the process (by default `host:pid`), the boot id is when that process
 * started, the job id the job working on the run. A lease normally ends when
 * its holder stops renewing it, `leaseMs` later. Some deaths are certain
 * sooner, and a restarted server should not wait out its own dead lease:
 * - the same instance id with another boot id is an earlier incarnation of
 *   this process (a restart reuses the instance id; a container's pid 1, say);
 * - this very process, but the job is no longer running here;
 * - a default instance id on this host whose pid no longer exists.
 * Anything else (another host, a custom instance id) waits for expiry.
 */
export interface ProcessIdentity {
  instanceId: string;
  bootId: string;
  host: string;
}

/** Lease owners whose jobs run in this process now, shared by every trainer (and every copy of the package) in it. */
const liveKey = Symbol.for("@zip/deep-memory/live-lease-owners");
const live: Set<string> = ((globalThis as Record<symbol, unknown>)[liveKey] as Set<string> | undefined) ?? new Set<string>();
(globalThis as Record<symbol, unknown>)[liveKey] = live;

/** This process: `host:pid`, started at the time origin of its clock. */
export function currentProcess(instanceId?: string): ProcessIdentity {
  const host = hostname();
  return { instanceId: instanceId ?? `${host}:${process.pid}`, bootId: String(Math.round(performance.timeOrigin)), host };
}

export function leaseOwnerFor(self: ProcessIdentity, jobId: string): string {
  return `${self.instanceId}@${self.bootId}/${jobId}`;
}

export function parseLeaseOwner(owner: string): { instanceId: string; bootId: string; jobId: string } | null {
  const slash = owner.lastIndexOf("/");
  const at = owner.lastIndexOf("@", slash);
  if (slash <= 0 || at <= 0) return null;
  return { instanceId: owner.slice(0, at), bootId: owner.slice(at + 1, slash), jobId: owner.slice(slash + 1) };
}

/** Marks a lease owner as working in this process until the returned function is called. */
export function holdLeaseOwner(owner: string): () => void {
  live.add(owner);
  return () => live.delete(owner);
}

export function isHeldHere(owner: string): boolean {
  return live.has(owner);
}

/**
 * True only when the holder is certainly not running any more; false means
 * "maybe alive": wait for the lease to expire.
 */
export function holderIsGone(owner: string, self: ProcessIdentity, pidExists: (pid: number) => boolean = processExists): boolean {
  const holder = parseLeaseOwner(owner);
  if (!holder) return false;
  if (holder.instanceId === self.instanceId) {
    if (holder.bootId !== self.bootId) return true;
    return !live.has(owner);
  }
  const match = /^(.+):(\d+)$/.exec(holder.instanceId);
  if (!match || match[1] !== self.host) return false;
  return !pidExists(Number(match[2]));
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
