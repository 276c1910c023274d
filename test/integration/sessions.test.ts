import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode } from "next-auth/jwt";
import { call, startHarness, type Harness } from "../support/harness";
import { signIn, signOut } from "../support/next-auth";

/**
 * Sessions end when they should: each sign-in is a session of its own, signing out ends that one,
 * a password change ends them all — the old cookies answer 401 at once, not in 30 days.
 */

let h: Harness;
let auth: typeof import("@/app/api/auth/[...nextauth]/route");
let conversations: typeof import("@/app/api/v1/conversations/route");
let users: typeof import("@/lib/db/queries/users");
const PASSWORD = "correct horse battery";

beforeAll(async () => {
  h = await startHarness();
  auth = await import("@/app/api/auth/[...nextauth]/route");
  conversations = await import("@/app/api/v1/conversations/route");
  users = await import("@/lib/db/queries/users");
});
afterAll(() => h.close());

let addresses = 0;
/** Two browsers of one person, each signed in through the real credentials flow. */
async function twoBrowsers() {
  const { user } = await h.signUp();
  const browser = async () => {
    const { response, cookie } = await signIn(auth, { email: user.email, password: PASSWORD, headers: { "x-forwarded-for": `192.0.2.${++addresses}` } });
    expect(response.status).toBe(200);
    return cookie!;
  };
  return { user, laptop: await browser(), phone: await browser() };
}

const statusWith = async (cookie: string) => (await call(conversations.GET, { cookie })).status;

describe("sessions", () => {
  it("signing out ends that browser's session and no other", async () => {
    const { laptop, phone } = await twoBrowsers();
    expect(await statusWith(laptop)).toBe(200);
    expect(await statusWith(phone)).toBe(200);

    expect((await signOut(auth, laptop)).status).toBe(200);
    const afterSignOut = await call(conversations.GET, { cookie: laptop });
    expect(afterSignOut.status).toBe(401);
    expect(((await afterSignOut.json()) as { code: string }).code).toBe("unauthenticated");
    expect(await statusWith(phone)).toBe(200);

    // next-auth's own session endpoint no longer vouches for the old cookie either, and clears it.
    const session = await auth.GET(new Request("http://localhost/api/auth/session", { headers: { cookie: laptop } }), {
      params: Promise.resolve({ nextauth: ["session"] }),
    });
    expect(await session.json()).toEqual({});
    expect(session.headers.getSetCookie().some((c) => c.startsWith("next-auth.session-token=;"))).toBe(true);
  });

  it("a password change ends every session; the new password signs in", async () => {
    const { user, laptop, phone } = await twoBrowsers();
    await users.setUserPassword({ user: user.email, password: "a brand new password" });
    expect(await statusWith(laptop)).toBe(401);
    expect(await statusWith(phone)).toBe(401);
    expect((await signIn(auth, { email: user.email, password: PASSWORD })).response.status).toBe(401);
    const fresh = await signIn(auth, { email: user.email, password: "a brand new password" });
    expect(await statusWith(fresh.cookie!)).toBe(200);
  });

  it("a validly signed token naming no session (as issued before sessions were recorded) signs nobody in", async () => {
    const { user } = await h.signUp();
    const legacy = await encode({ token: { sub: user.id, email: user.email }, secret: process.env.AUTH_SECRET ?? "" });
    expect(await statusWith(`next-auth.session-token=${legacy}`)).toBe(401);
    // A session belongs to its own user only.
    const { startSession } = await import("@/lib/auth/session");
    const othersSession = await startSession((await h.signUp()).user.id);
    const foreign = await encode({ token: { sub: user.id, sid: othersSession }, secret: process.env.AUTH_SECRET ?? "" });
    expect(await statusWith(`next-auth.session-token=${foreign}`)).toBe(401);
  });
});
