import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import type { RateDecision } from "@/lib/api/rate-limit";
import { deleteSession } from "@/lib/db/queries/sessions";
import { authenticateUser } from "@/lib/db/queries/users";
import { log } from "@/lib/log";
import { getAuthSecret } from "./secret";
import { liveSessionAccount, SESSION_MAX_AGE_SECONDS, startSession } from "./session";
import { throttleSignIn } from "./throttle";

const credentialsSchema = z.object({
  email: z.email().max(320),
  password: z.string().min(1).max(1024),
});

/** The `error` next-auth reports for a throttled sign-in (its client reads it from the answer's `url`). */
export const TOO_MANY_ATTEMPTS = "TooManyAttempts";

/** One request's sign-in: where it comes from, and the throttle's refusal if there was one. */
export type SignInAttempt = { address: string | null; refused: RateDecision | null };

export async function getAuthOptions(attempt: SignInAttempt = { address: null, refused: null }): Promise<NextAuthOptions> {
  return {
    secret: await getAuthSecret(),
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/sign-in" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: {
          email: { label: "Email", type: "email" },
          password: { label: "Password", type: "password" },
        },
        async authorize(credentials) {
          const parsed = credentialsSchema.safeParse(credentials);
          if (!parsed.success) return null;
          // Before the password is looked at: a refused attempt learns nothing, right or wrong.
          const decision = await throttleSignIn({ email: parsed.data.email, address: attempt.address });
          if (!decision.allowed) {
            attempt.refused = decision;
            throw new Error(TOO_MANY_ATTEMPTS);
          }
          const user = await authenticateUser(parsed.data);
          return user ? { id: user.id, email: user.email, name: user.name } : null;
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user }) {
        if (user) {
          token.sub = user.id;
          token.sid = await startSession(user.id);
          return token;
        }
        // next-auth's own session endpoint reads (and renews) the cookie: a revoked session is
        // refused there too, and next-auth then clears the cookie.
        const account = await liveSessionAccount(token);
        if (!account || account.disabledAt) throw new Error("SessionRevoked");
        return token;
      },
      session({ session, token }) {
        if (session.user && token.sub) Object.assign(session.user, { id: token.sub });
        return session;
      },
    },
    events: {
      async signOut({ token }) {
        if (typeof token?.sub === "string" && typeof token.sid === "string") await deleteSession({ userId: token.sub, sessionId: token.sid });
      },
    },
    // next-auth logs through console by default; a revoked cookie is routine, not an error.
    logger: {
      error: (code, metadata) => log.warn({ code, err: metadata instanceof Error ? metadata : undefined }, "next-auth error"),
      warn: (code) => log.warn({ code }, "next-auth warning"),
      debug: () => {},
    },
  };
}
