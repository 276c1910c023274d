import { json, withApi } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { signUp } from "@/lib/auth/sign-up";
import { env } from "@/lib/env";
import { signUpSchema } from "./schema";

export const dynamic = "force-dynamic";

/**
 * Public: creates an account, answering 202 `{ email }` whether or not the email was free. The
 * browser then signs in through next-auth's credentials flow.
 */
export const POST = withApi(async ({ request, body }) => json(await signUp(request, body), 202), {
  body: signUpSchema,
  maxBodyBytes: env.MAX_AUTH_BODY_BYTES,
});

export const { OPTIONS, GET, HEAD, PUT, PATCH, DELETE } = otherMethods({ POST });
