export { SupabaseTrainingStore, type SupabaseTrainingStoreOptions } from "./supabase-training-store.js";
export { SupabaseVectorStore, type SupabaseVectorStoreOptions } from "./supabase-vector-store.js";
/** The SQL of supabase/migrations, to copy into a Supabase project (see docs/persistence.md). */
export { deepMemoryMigrations, type SqlMigration } from "../training-store/sql-schema.js";
