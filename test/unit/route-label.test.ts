import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { API_ROUTES, routeLabel, UNMATCHED_ROUTE } from "@/lib/api/route-label";

/** Every app/api/**\/route.ts, as the path template Next.js serves it at. */
function routeFiles(dir = "app/api"): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return routeFiles(full);
    return entry.name === "route.ts" ? [`/${path.dirname(full).replace(/^app\//, "")}`] : [];
  });
}

describe("routeLabel", () => {
  it("knows every route handler in app/api (a new route is one line in API_ROUTES)", () => {
    expect([...API_ROUTES].sort()).toEqual(routeFiles().sort());
  });

  it("labels a path by its route's template, whatever the caller put in the id segments", () => {
    expect(routeLabel("/api/v1/conversations")).toBe("/api/v1/conversations");
    expect(routeLabel("/api/v1/conversations/")).toBe("/api/v1/conversations");
    expect(routeLabel("/api/v1/conversations/not-a-uuid")).toBe("/api/v1/conversations/{id}");
    expect(routeLabel(`/api/v1/conversations/${crypto.randomUUID()}/messages/x1/stream`)).toBe("/api/v1/conversations/{id}/messages/{message_id}/stream");
    expect(routeLabel("/api/v1/documents/abc/content")).toBe("/api/v1/documents/{id}/content");
    expect(routeLabel("/api/v1/models")).toBe("/api/v1/models");
    expect(routeLabel("/api/v1/openapi.json")).toBe("/api/v1/openapi.json");
    expect(routeLabel("/api/auth/sign-up")).toBe("/api/auth/sign-up");
    expect(routeLabel("/api/auth/callback/credentials")).toBe("/api/auth/{nextauth}");
    expect(routeLabel("/api/auth/anything-at-all/x/y")).toBe("/api/auth/{nextauth}");
  });

  it("gives every path no handler owns the one `(unmatched)` label", () => {
    for (const pathname of ["/api/v1/wp-admin", "/api/v1/conversations/a/b", "/api/v1/models/x", "/api/nope", "/", "/api/v1/" + "x/".repeat(50)]) {
      expect(routeLabel(pathname), pathname).toBe(UNMATCHED_ROUTE);
    }
  });
});
