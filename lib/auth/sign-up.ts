import { AppError } from "@/lib/api/errors";
import { createUser, normalizeEmail } from "@/lib/db/queries/users";
import { env } from "@/lib/env";
import { clientAddress } from "./client-address";
import { throttleSignUp, tooManyAttempts } from "./throttle";

/**
 * Self-service sign-up. A taken email gets the same answer as a free one (and costs the same
 * password hash and insert attempt), so sign-up cannot be used to learn who has an account; the
 * browser signs in next, which fails for a taken email unless the password is that account's.
 */
export async function signUp(request: Request, input: { email: string; password: string; name?: string }): Promise<{ email: string }> {
  if (!env.ALLOW_SIGNUP) throw new AppError("signup_disabled", "This server does not accept new sign-ups.");
  const decision = await throttleSignUp({ address: clientAddress(request) });
  if (!decision.allowed) throw tooManyAttempts(decision);
  try {
    await createUser(input);
  } catch (error) {
    if (!(error instanceof AppError && error.code === "email_taken")) throw error;
  }
  return { email: normalizeEmail(input.email) };
}
