import { redirect } from "next/navigation";
import { signOut } from "@/app/actions";
import { Dashboard } from "@/components/dashboard/dashboard";
import { currentUserId } from "@/lib/server/current-user";
import { authMode } from "@/lib/server/session";

export const dynamic = "force-dynamic";

/** The plan's admin screen (app/dashboard/deep-memory/page.tsx): the session decides whose runs it shows. */
export default async function DeepMemoryPage() {
  const userId = await currentUserId();
  if (!userId) redirect("/login");
  const local = authMode() === "local";
  return <Dashboard userLabel={local ? `local user ${userId.slice(0, 8)}` : userId} signOut={local ? signOut : null} />;
}
