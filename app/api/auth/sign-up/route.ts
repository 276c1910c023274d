import { AppError } from "@/lib/api/errors";
import { json, withApi } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { createUser } from "@/lib/db/queries/users";
import { env } from "@/lib/env";
import { signUpSchema } from "./schema";

export const dynamic = "force-dynamic";


/** Public: creates an account. The browser then signs in through next-auth's credentials flow. */
export const POST = withApi(
  async ({ body }) => {
    if (!env.ALLOW_SIGNUP) throw new AppError("signup_disabled", "This server does not accept new sign-ups.");
    const user = await createUser(body);
    return json({ id: user.id, email: user.email, name: user.name, created_at: user.createdAt.toISOString() }, 201);
  },
  { body: signUpSchema, maxBodyBytes: env.MAX_AUTH_BODY_BYTES },
);

export const { OPTIONS, GET, HEAD, PUT, PATCH, DELETE } = otherMethods({ POST });
