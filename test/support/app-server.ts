/**
 * A real server process for crash and start-up tests, without a production build: it starts the
 * way Next.js does — instrumentation's register() runs once, and every request waits for it; if it
 * fails, every request is answered 500 (what `next start` does) — and serves the real route
 * handlers over loopback HTTP. Prints `LISTENING <url>` when it accepts requests.
 *
 *   NEXT_RUNTIME=nodejs DATA_DIR=… node --import tsx test/support/app-server.ts
 */
import { serveRoutes, type Route } from "./http";

const UUID = "([0-9a-fA-F-]{36})";

async function main() {
  const registered = import("../../instrumentation").then(({ register }) => register());
  registered.catch((error: unknown) => process.stderr.write(`register failed: ${error instanceof Error ? error.message : String(error)}\n`));
  const gate =
    (load: () => Promise<Route["handler"]>): Route["handler"] =>
    async (request, context) => {
      try {
        await registered;
      } catch {
        return new Response("Internal Server Error", { status: 500 });
      }
      return (await load())(request, context);
    };
  const route = (method: string, path: string, params: string[], load: () => Promise<Route["handler"]>): Route => ({
    method,
    pattern: new RegExp(`^${path}$`),
    params,
    handler: gate(load),
  });
  const server = await serveRoutes([
    route("GET", "/api/health", [], async () => (await import("@/app/api/health/route")).GET),
    route("GET", "/api/ready", [], async () => (await import("@/app/api/ready/route")).GET),
    route("POST", "/api/v1/conversations", [], async () => (await import("@/app/api/v1/conversations/route")).POST),
    route("GET", `/api/v1/conversations/${UUID}`, ["id"], async () => (await import("@/app/api/v1/conversations/[id]/route")).GET),
  ]);
  process.stdout.write(`LISTENING ${server.url}\n`);
}

void main();
