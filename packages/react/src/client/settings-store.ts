import type { SettingsResponse } from "@zip/deep-memory-protocol";
import { MutationStore } from "./mutation-store.js";
import { QueryStore, type QuerySnapshot } from "./query-store.js";

/**
 * GET /settings, shared, with an optimistic `setEnabled`: every subscriber
 * sees the new value at once; when the server refuses (409 without a model
 * that beat plain search, say) the value rolls back to what the server last
 * confirmed, the error stays in `updates`, and the settings are refetched.
 */
export class SettingsStore extends QueryStore<SettingsResponse> {
  /** State of the latest `setEnabled` call, shared by every toggle on the page. */
  readonly updates: MutationStore<boolean, SettingsResponse>;
  private confirmed: SettingsResponse | undefined;
  private pending: boolean | null = null;
  private calls = 0;

  constructor(
    fetchSettings: (signal: AbortSignal) => Promise<SettingsResponse>,
    updateSettings: (enabled: boolean, signal: AbortSignal) => Promise<SettingsResponse>,
  ) {
    super(fetchSettings);
    this.updates = new MutationStore(updateSettings);
  }

  /**
   * Turns deep memory on or off, optimistically. Resolves to the server's
   * settings, or rejects with its DeepMemoryClientError after rolling back.
   */
  async setEnabled(enabled: boolean): Promise<SettingsResponse> {
    const call = ++this.calls;
    this.pending = enabled;
    this.show(this.confirmed);
    try {
      const settings = await this.updates.mutateAsync(enabled);
      // Only the latest call settles the value; an earlier one answering late must not undo a newer choice.
      if (call === this.calls) this.pending = null;
      this.setData(settings);
      return settings;
    } catch (error) {
      if (call === this.calls) {
        this.pending = null;
        this.show(this.confirmed);
        // The refusal may mean the server's view changed (can_enable, say): show its current state.
        this.invalidate();
      }
      throw error;
    }
  }

  protected override update(patch: Partial<QuerySnapshot<SettingsResponse>>): void {
    // Fetched data is what the server confirms; what subscribers see keeps a pending choice on top of it.
    if ("data" in patch && patch.data !== undefined) {
      this.confirmed = patch.data;
      super.update({ ...patch, data: this.overlay(patch.data) });
      return;
    }
    super.update(patch);
  }

  private show(settings: SettingsResponse | undefined): void {
    if (settings !== undefined) super.update({ data: this.overlay(settings) });
  }

  private overlay(settings: SettingsResponse): SettingsResponse {
    return this.pending === null || this.pending === settings.enabled ? settings : { ...settings, enabled: this.pending };
  }
}
