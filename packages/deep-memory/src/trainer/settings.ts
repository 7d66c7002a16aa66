import type { DeepMemorySettings } from "../domain/settings.js";
import type { SettingsView } from "../domain/views.js";
import { NoTrainedModelError } from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import type { TrainerContext } from "./context.js";
import { collectChunks } from "./corpus.js";
import { updateSettingsInputSchema, userIdSchema, type UpdateSettingsInput } from "./options.js";
import type { Retrieval } from "./search.js";

/** The per-user toggle, and what the admin screen shows beside it. */
export class SettingsService {
  constructor(
    private readonly ctx: TrainerContext,
    private readonly retrieval: Retrieval,
  ) {}

  async get(input: { userId: string }): Promise<SettingsView> {
    const userId = parseOrThrow(userIdSchema, input.userId, "userId");
    return this.view(userId, await this.ctx.config.store.getSettings(userId));
  }

  /**
   * Turns deep memory on or off for the user. Search picks the change up on
   * its next call; nothing is re-indexed.
   * @throws NoTrainedModelError when enabling with no completed run that beat the baseline.
   */
  async update(input: UpdateSettingsInput): Promise<SettingsView> {
    const { userId, enabled } = parseOrThrow(updateSettingsInputSchema, input, "settings");
    const { store } = this.ctx.config;
    // Whether enabling is allowed does not depend on `enabled` itself: work it out once for the check and the answer.
    const blocker = await this.enableBlocker(userId, await store.getSettings(userId));
    if (enabled && blocker) throw new NoTrainedModelError(blocker);
    return this.view(userId, await store.saveSettings(userId, { enabled }, this.ctx.clock()), blocker);
  }

  private async view(userId: string, settings: DeepMemorySettings | null, knownBlocker?: string | null): Promise<SettingsView> {
    const [newChunks, blocker] = await Promise.all([
      this.newChunks(userId),
      knownBlocker !== undefined ? knownBlocker : this.enableBlocker(userId, settings),
    ]);
    const model = blocker === null && settings?.modelRunId ? await this.retrieval.activeModel(userId, settings) : null;
    return {
      enabled: settings?.enabled ?? false,
      lastTrainedAt: settings?.lastTrainedAt ?? null,
      lastTrainingRunId: settings?.lastTrainingRunId ?? null,
      modelRunId: settings?.modelRunId ?? null,
      canEnable: blocker === null,
      cannotEnableReason: blocker,
      newChunksSinceLastTraining: newChunks,
      retrieval: {
        withDeepMemory: model && !("reason" in model) ? this.retrieval.applicable(model.fusion) : null,
        withoutDeepMemory: this.retrieval.plainFusion(),
      },
    };
  }

  /**
   * Chunks no trained model has seen (even where pairs wait in a run not
   * trained yet): one count where the store can count, else every page.
   */
  private async newChunks(userId: string): Promise<number> {
    const { vectorStore, store } = this.ctx.config;
    const covered = await store.listChunkIdsWithPairs(userId, ["completed"]);
    if (vectorStore.countChunks) return vectorStore.countChunks({ userId, excludeIds: covered });
    const coveredSet = new Set(covered);
    const chunks = await collectChunks(vectorStore, userId, { pageSize: this.ctx.options.pageSize, includeEmbeddings: false });
    return chunks.filter((c) => !coveredSet.has(c.id)).length;
  }

  private async enableBlocker(userId: string, settings: DeepMemorySettings | null): Promise<string | null> {
    if (!settings?.lastTrainingRunId) return "No completed training run yet: generate training data and train first";
    if (!settings.modelRunId) {
      const last = await this.ctx.config.store.getRun(userId, settings.lastTrainingRunId);
      return last?.metrics?.reason ?? "No trained model beats plain search on held-out questions";
    }
    const model = await this.retrieval.activeModel(userId, settings);
    return "reason" in model ? model.reason : null;
  }
}
