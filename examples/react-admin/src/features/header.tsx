import { AdminHeader, shortId } from "@zip/example-admin-ui";

export function Header({ devUser }: { devUser: string | null }) {
  return (
    <AdminHeader title="Deep Memory Training">
      <p className="w-full text-sm text-muted-foreground sm:ml-auto sm:w-auto">
        Acting as {devUser ? <code title={devUser}>user {shortId(devUser)}</code> : "the demo user"}
      </p>
    </AdminHeader>
  );
}
