import { InMemoryTrainingStore } from "./in-memory-training-store.js";
import { describeTrainingStoreContract } from "./training-store.contract.js";

describeTrainingStoreContract("in memory", async () => ({ store: new InMemoryTrainingStore() }));
