export { SupabaseTrainingStore, type SupabaseTrainingStoreOptions } from "./supabase-training-store.js";
export { SupabaseVectorStore, type SupabaseVectorStoreOptions } from "./supabase-vector-store.js";
