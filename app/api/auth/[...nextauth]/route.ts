import { withObservation } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { handleAuthRequest } from "@/lib/api/next-auth";

export const dynamic = "force-dynamic";

const handler = withObservation(handleAuthRequest);

export { handler as GET, handler as POST };
export const { OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET: handler, POST: handler });
