/**
 * A small deterministic world for the HTTP tests: a knowledge base per user
 * whose questions embed to a scrambled copy (fixed permutation with sign
 * flips, plus noise) of their chunk's vector, so plain search ranks poorly;
 * a tiny engine that learns the unscrambling from (question, chunk) pairs;
 * and a question generator that can be held at a gate to pause a job.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import {
  DeepMemoryTrainer,
  InMemoryTrainingStore,
  InMemoryVectorStore,
  type DeepMemoryEngine,
  type Embedder,
  type EngineModel,
  type EngineTrainInput,
  type GenerateQuestionsInput,
  type InMemoryDocument,
  type QuestionGenerator,
  type QueryTransform,
  type TrainerOptions,
  type TrainingStore,
} from "@zip/deep-memory";
import { normalize } from "@zip/deep-memory/evaluation";
import { correlationWeights, fnv1a, linearTransform, mulberry32 } from "@zip/deep-memory/testing";
import { decodeJobStreamEvent, parseSseStream, SseParser, type JobStreamEvent } from "@zip/deep-memory-protocol";

export const DIMS = 16;

function randomUnit(rand: () => number): Float32Array {
  const v = new Float32Array(DIMS);
  for (let i = 0; i < DIMS; i++) v[i] = rand() * 2 - 1;
  return normalize(v);
}

/** Chunk ids embed their owner, so a leak between users is visible in any response. */
export function chunkId(userId: string, i: number): string {
  return `${userId}-chunk-${String(i).padStart(2, "0")}`;
}

export function questionFor(id: string, k: number): string {
  return `What does ${id} say about aspect ${k}?`;
}

const questionPattern = /^What does (\S+) say about aspect (\d+)\?$/;

export class World {
  readonly vectors = new Map<string, Float32Array>();
  readonly documents: InMemoryDocument[] = [];
  private readonly permutation: number[];
  private readonly signs: number[];

  constructor(users: readonly string[], chunksPerUser = 30, seed = 11) {
    const rand = mulberry32(seed);
    for (const userId of users) {
      for (let i = 0; i < chunksPerUser; i++) {
        const id = chunkId(userId, i);
        const embedding = randomUnit(rand);
        this.vectors.set(id, embedding);
        this.documents.push({ id, text: `Note ${i} of ${userId}: strategy S${i}.`, embedding, userId });
      }
    }
    this.permutation = Array.from({ length: DIMS }, (_, i) => i).sort(() => rand() - 0.5);
    this.signs = Array.from({ length: DIMS }, () => (rand() < 0.5 ? -1 : 1));
  }

  /** A question about a chunk embeds to the scrambled chunk vector plus noise; anything else to a random vector. */
  embedText(text: string): Float32Array {
    const rand = mulberry32(fnv1a(text));
    const match = questionPattern.exec(text);
    const base = match ? this.vectors.get(match[1]!) : undefined;
    if (!base) return randomUnit(rand);
    const out = new Float32Array(DIMS);
    for (let i = 0; i < DIMS; i++) out[i] = this.signs[i]! * base[this.permutation[i]!]! + 0.15 * (rand() * 2 - 1);
    return normalize(out);
  }
}

export class WorldEmbedder implements Embedder {
  readonly model = "world-embedder";
  constructor(private readonly world: World) {}
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.world.embedText(t));
  }
}

/** Holds callers until opened; reusable. */
export class Gate {
  private waiters: (() => void)[] = [];
  private opened = false;
  constructor(open = true) {
    this.opened = open;
  }
  wait(): Promise<void> {
    return this.opened ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
  open(): void {
    this.opened = true;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
  close(): void {
    this.opened = false;
  }
}

export class GatedGenerator implements QuestionGenerator {
  readonly model = "gated-generator";
  calls = 0;
  /** Thrown by every call while set, e.g. an UpstreamError to make the run fail. */
  failure: Error | null = null;
  constructor(readonly gate = new Gate()) {}
  async generate(input: GenerateQuestionsInput): Promise<string[]> {
    this.calls++;
    await this.gate.wait();
    input.signal?.throwIfAborted();
    if (this.failure) throw this.failure;
    return Array.from({ length: input.count }, (_, k) => questionFor(input.chunk.id, k));
  }
}

/** Learns W = sum over pairs of chunk * question^T: for a scrambling that is orthogonal, W q points back at the chunk. */
export class CorrelationEngine implements DeepMemoryEngine {
  readonly name = "test-correlation";
  /** Training waits here first, so a test can observe a job mid-training. */
  readonly gate = new Gate();
  async train(input: EngineTrainInput): Promise<EngineModel> {
    await this.gate.wait();
    const w = correlationWeights(input);
    for (let epoch = 1; epoch <= 3; epoch++) {
      input.signal?.throwIfAborted();
      input.onProgress?.({ epoch, epochs: 3, loss: 1 / epoch, validationRecallAt10: 0.5 });
      await new Promise((resolve) => setImmediate(resolve));
    }
    return {
      format: "correlation/v1",
      dimensions: input.dimensions,
      weights: new Uint8Array(w.buffer),
      report: {
        engine: this.name,
        epochs: 3,
        bestEpoch: 3,
        trainQueries: input.queries.length,
        validationQueries: 0,
        baselineValidationRecallAt10: 0,
        validationRecallAt10: 0,
        wallMs: 0,
      },
    };
  }
  load(model: { format: string; dimensions: number; weights: Uint8Array }): QueryTransform {
    return linearTransform(model);
  }
}

export interface TestSetup {
  world: World;
  trainer: DeepMemoryTrainer;
  store: TrainingStore;
  vectorStore: InMemoryVectorStore;
  generator: GatedGenerator;
  engine: CorrelationEngine;
}

export function createTrainer(
  options: {
    users?: string[];
    store?: TrainingStore;
    world?: World;
    generator?: GatedGenerator;
    trainerOptions?: TrainerOptions;
    instanceId?: string;
  } = {},
): TestSetup {
  const world = options.world ?? new World(options.users ?? ["alice", "bob"]);
  const store = options.store ?? new InMemoryTrainingStore();
  const vectorStore = new InMemoryVectorStore(world.documents);
  const generator = options.generator ?? new GatedGenerator();
  const engine = new CorrelationEngine();
  const trainer = new DeepMemoryTrainer({
    vectorStore,
    store,
    embedder: new WorldEmbedder(world),
    generator,
    engine,
    options: { questionsPerChunk: 4, concurrency: 2, retries: 0, leaseMs: 5_000, ...options.trainerOptions },
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
  });
  return { world, trainer, store, vectorStore, generator, engine };
}

// ---------------------------------------------------------------- HTTP helpers

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Listens on an ephemeral port of 127.0.0.1. */
export async function listen(app: (req: never, res: never) => void | Promise<void>): Promise<RunningServer> {
  const { createServer } = await import("node:http");
  const server: Server = createServer(app as never);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export interface StreamedEvent {
  id: string | undefined;
  event: string;
  data: JobStreamEvent;
}

export interface OpenedStream {
  response: Response;
  comments: string[];
  /** Reads the next event; null when the stream ended. */
  next(): Promise<StreamedEvent | null>;
  /** Reads until the server closes the stream. */
  rest(): Promise<StreamedEvent[]>;
  /** Goes away as a browser tab would. */
  abort(): void;
}

/** Opens an event stream with fetch and reads it in the background with the protocol's SSE parser. */
export async function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenedStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal });
  const comments: string[] = [];
  const queue: (StreamedEvent | Error | null)[] = [];
  let wake: (() => void) | null = null;
  const put = (item: StreamedEvent | Error | null) => {
    queue.push(item);
    wake?.();
  };
  if (response.ok && response.body) {
    const body = response.body;
    void (async () => {
      try {
        for await (const message of parseSseStream(body, { parser: new SseParser({ onComment: (c) => comments.push(c) }) })) {
          const data = decodeJobStreamEvent(message);
          put(data ? { id: message.id, event: message.event, data } : new Error(`unexpected event type ${message.event}`));
        }
        put(null);
      } catch (error) {
        put(controller.signal.aborted ? null : (error as Error));
      }
    })();
  } else put(null);
  const next = async (): Promise<StreamedEvent | null> => {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    const item = queue[0]!;
    if (item !== null) queue.shift(); // the end stays at the head of the queue
    if (item instanceof Error) throw item;
    return item;
  };
  return {
    response,
    comments,
    next,
    async rest() {
      const events: StreamedEvent[] = [];
      for (let e = await next(); e; e = await next()) events.push(e);
      return events;
    },
    abort: () => controller.abort(),
  };
}

export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
