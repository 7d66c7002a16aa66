"use server";

import { randomUUID } from "node:crypto";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { authMode, LOCAL_SESSION_COOKIE } from "@/lib/server/session";

/** Local mode: a new user, as a random uuid in an http-only cookie (a year long). */
export async function signInLocally(): Promise<void> {
  if (authMode() !== "local") throw new Error("Local sessions are off: this app signs in with Supabase");
  const store = await cookies();
  store.set(LOCAL_SESSION_COOKIE, randomUUID(), { httpOnly: true, sameSite: "lax", path: "/", maxAge: 60 * 60 * 24 * 365 });
  redirect("/dashboard/deep-memory");
}

export async function signOut(): Promise<void> {
  (await cookies()).delete(LOCAL_SESSION_COOKIE);
  redirect("/login");
}
