/**
 * Who the admin screen acts as. The example server's dev scheme takes the
 * user from an `x-user-id` header (a uuid); open the page with `?user=<uuid>`
 * to act as someone else. A real app sends its session token instead:
 * `headers: () => ({ Authorization: \`Bearer ${session.access_token}\` })`.
 */
export function devUserFromLocation(search: string = globalThis.location?.search ?? ""): string | null {
  const user = new URLSearchParams(search).get("user")?.trim();
  return user ? user : null;
}

/** Where the API lives: same origin by default (the example server serves this app), or VITE_API_URL. */
export const apiOrigin: string = (import.meta.env.VITE_API_URL ?? "").replace(/\/$/, "");
