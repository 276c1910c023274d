import { json, withApi } from "@/lib/api/handler";
import { signUp } from "@/lib/auth/sign-up";
import { signUpSchema } from "./schema";

export const dynamic = "force-dynamic";

/**
 * Public: creates an account, answering 202 `{ email }` whether or not the email was free. The
 * browser then signs in through next-auth's credentials flow.
 */
export const POST = withApi(async ({ request, body }) => json(await signUp(request, body), 202), { body: signUpSchema });
