import { redirect } from "next/navigation";
import { signInLocally } from "@/app/actions";
import { Button, Card, CardContent, CardDescription, CardHeader, CardTitle } from "@zip/example-admin-ui/ui";
import { currentUserId } from "@/lib/server/current-user";
import { authMode } from "@/lib/server/session";

export const dynamic = "force-dynamic";

export default async function LoginPage() {
  if (await currentUserId()) redirect("/dashboard/deep-memory");
  const local = authMode() === "local";
  return (
    <main className="mx-auto flex min-h-screen max-w-md items-center p-4">
      <Card className="w-full">
        <CardHeader>
          <CardTitle>Sign in</CardTitle>
          <CardDescription>
            {local
              ? "Local mode: no account needed. Each session is a new user with its own training runs and settings."
              : "This app reads your Supabase session. Sign in through your app's Supabase login, then come back."}
          </CardDescription>
        </CardHeader>
        {local && (
          <CardContent>
            <form action={signInLocally}>
              <Button type="submit" className="w-full">
                Start a local session
              </Button>
            </form>
          </CardContent>
        )}
      </Card>
    </main>
  );
}
