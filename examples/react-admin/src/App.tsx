import { AdminScreen } from "@zip/example-admin-ui";
import { Header } from "./features/header.js";
import { SearchCard } from "./features/search-card.js";

/** The plan's deep-memory dashboard, built only from @zip/deep-memory-react's hooks: the shared admin screen plus a search comparison. */
export function App({ devUser }: { devUser: string | null }) {
  return (
    <AdminScreen header={<Header devUser={devUser} />}>
      <SearchCard className="lg:col-span-3" />
    </AdminScreen>
  );
}
