import { cookies, headers } from "next/headers";
import { sessionUserId } from "./session";

/** The signed-in user of the page being rendered, or null. */
export async function currentUserId(): Promise<string | null> {
  const [cookieStore, headerList] = await Promise.all([cookies(), headers()]);
  return sessionUserId({ cookies: cookieStore.getAll(), authorization: headerList.get("authorization") });
}
