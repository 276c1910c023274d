import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { PublicUser } from "@/lib/db/queries/users";
import { getUserFromCookieHeader } from "./session";

/** For server components: the signed-in user, or a redirect to the sign-in page. */
export async function requirePageUser(): Promise<PublicUser> {
  const user = await getUserFromCookieHeader((await headers()).get("cookie"));
  if (!user) redirect("/sign-in");
  return user;
}

export async function getPageUser(): Promise<PublicUser | null> {
  return getUserFromCookieHeader((await headers()).get("cookie"));
}
