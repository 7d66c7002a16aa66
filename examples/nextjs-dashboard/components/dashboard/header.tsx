"use client";

import { AdminHeader } from "@zip/example-admin-ui";
import { Button } from "@zip/example-admin-ui/ui";

export function Header({ userLabel, signOut }: { userLabel: string; signOut: (() => Promise<void>) | null }) {
  return (
    <AdminHeader title="Deep Memory">
      <div className="flex w-full min-w-0 items-center gap-2 text-sm text-muted-foreground sm:ml-auto sm:w-auto">
        <span className="truncate" data-testid="signed-in-as">
          Signed in as {userLabel}
        </span>
        {signOut && (
          <form action={signOut}>
            <Button type="submit" variant="outline" size="sm">
              Sign out
            </Button>
          </form>
        )}
      </div>
    </AdminHeader>
  );
}
