import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { withObservation } from "@/lib/api/handler";
import { getAuthOptions } from "@/lib/auth/options";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ nextauth: string[] }> };

const handler = withObservation(async (request: NextRequest, context: Context): Promise<Response> => NextAuth(request, context, await getAuthOptions()));

export { handler as GET, handler as POST };
