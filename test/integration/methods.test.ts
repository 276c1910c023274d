import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * Every API route answers every method itself: OPTIONS with `Allow` and X-Request-Id, a method it
 * does not implement with 405 problem+json `method_not_allowed`, `Allow` and X-Request-Id. (Next.js
 * answers a method a route does not export with a bare 405, no Allow, no request id.) The routes
 * are found on disk, so a new one that forgets is caught here.
 */

const METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"] as const;
const appDir = path.resolve(import.meta.dirname, "../../app");

function routeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return routeFiles(full);
    return entry.name === "route.ts" ? [full] : [];
  });
}

/** A URL path for the route, its dynamic segments filled with something (`[id]` → a UUID). */
function samplePath(file: string): string {
  const segments = path.relative(appDir, path.dirname(file)).split(path.sep);
  return `/${segments.map((s) => (s.startsWith("[...") ? "anything" : s.startsWith("[") ? "00000000-0000-4000-8000-000000000000" : s)).join("/")}`;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

type Route = Partial<Record<(typeof METHODS)[number], (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>>>;

const files = routeFiles(path.join(appDir, "api"));

describe("methods on every API route", () => {
  it("finds the routes", () => {
    expect(files.length).toBeGreaterThan(15);
  });

  it.each(files.map((file) => [path.relative(appDir, file), file]))("%s", async (_name, file) => {
    const route = (await import(file)) as Route;
    const pathname = samplePath(file);
    // Every method is ours, except HEAD beside a GET (Next.js runs the GET for it).
    for (const method of METHODS) {
      if (method === "HEAD" && route.GET) continue;
      expect(typeof route[method], `${pathname} exports ${method}`).toBe("function");
    }
    const options = await call(route.OPTIONS!, { method: "OPTIONS", path: pathname, headers: { "x-request-id": "req-options" } });
    expect(options.headers.get("x-request-id")).toBe("req-options");
    if (pathname.startsWith("/api/v1/anything")) {
      // The catch-all: no such endpoint, whatever the method.
      expect(options.status).toBe(404);
      return;
    }
    expect(options.status).toBe(204);
    const allow = options.headers.get("allow") ?? "";
    const allowed = allow.split(", ");
    expect(allowed).toContain("OPTIONS");
    for (const method of METHODS) {
      if (allowed.includes(method)) continue;
      const res = await call(route[method]!, { method, path: pathname, headers: { "x-request-id": `req-${method}` } });
      expect(res.status, `${method} ${pathname}`).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect(res.headers.get("x-request-id")).toBe(`req-${method}`);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const problem = (await res.json()) as { code: string; detail: string };
      expect(problem.code).toBe("method_not_allowed");
      expect(problem.detail).toContain(method);
    }
  });

  it("answers a method Next.js cannot route (TRACE, sent on as OPTIONS by the request guard) with 405", async () => {
    const route = (await import("@/app/api/v1/conversations/route")) as Route;
    const res = await call(route.OPTIONS!, { method: "OPTIONS", path: "/api/v1/conversations", headers: { "x-bot-gpt-unsupported-method": "TRACE" } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS, POST");
    expect(((await res.json()) as { detail: string }).detail).toMatch(/^TRACE /);
  });
});
