import { withObservation } from "@/lib/api/handler";
import { handleAuthRequest } from "@/lib/auth/next-auth-route";

export const dynamic = "force-dynamic";

const handler = withObservation(handleAuthRequest);

export { handler as GET, handler as POST };
