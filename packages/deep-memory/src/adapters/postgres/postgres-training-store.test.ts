import { describeTrainingStoreContract } from "../training-store/training-store.contract.js";
import { PostgresTrainingStore } from "./postgres-training-store.js";
import { createTestDatabase, describeWithPostgres } from "./test-database.test-support.js";

describeWithPostgres("PostgreSQL (real server)", () => {
  describeTrainingStoreContract(
    "PostgreSQL",
    async () => {
      const db = await createTestDatabase();
      const store = await PostgresTrainingStore.connect({ connectionString: db.url, max: 4 });
      return {
        store,
        cleanup: async () => {
          await store.close();
          await db.drop();
        },
      };
    },
    { rejectsNonUuidIds: true },
  );
});
