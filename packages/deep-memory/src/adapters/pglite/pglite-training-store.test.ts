import { describeTrainingStoreContract } from "../training-store/training-store.contract.js";
import { PGliteTrainingStore } from "./pglite-training-store.js";

describeTrainingStoreContract(
  "PGlite",
  async () => {
    const store = await PGliteTrainingStore.open({ dataDir: "memory://" });
    return { store, cleanup: () => store.close() };
  },
  { rejectsNonUuidIds: true },
);
