/**
 * The route a path belongs to, for log lines and metric labels: the template of the route handler
 * that serves it (`/api/v1/conversations/{id}/messages`), never the path itself, so what a caller
 * puts in a URL cannot add a series. Paths no handler owns share one label, `(unmatched)`.
 *
 * The list mirrors app/api/**\/route.ts (test/unit/route-label.test.ts fails when they differ):
 * `[name]` is one segment, `[...name]` the rest of the path. A new route is one line here.
 */
export const API_ROUTES = [
  "/api/auth/[...nextauth]",
  "/api/auth/sign-up",
  "/api/health",
  "/api/metrics",
  "/api/ready",
  "/api/v1/[...path]",
  "/api/v1/api-keys",
  "/api/v1/api-keys/[id]",
  "/api/v1/chat/completions",
  "/api/v1/conversations",
  "/api/v1/conversations/[id]",
  "/api/v1/conversations/[id]/messages",
  "/api/v1/conversations/[id]/messages/[message_id]/edit",
  "/api/v1/conversations/[id]/messages/[message_id]/feedback",
  "/api/v1/conversations/[id]/messages/[message_id]/regenerate",
  "/api/v1/conversations/[id]/messages/[message_id]/stop",
  "/api/v1/conversations/[id]/messages/[message_id]/stream",
  "/api/v1/documents",
  "/api/v1/documents/[id]",
  "/api/v1/documents/[id]/content",
  "/api/v1/models",
  "/api/v1/openapi.json",
  "/api/v1/usage",
] as const;

export const UNMATCHED_ROUTE = "(unmatched)";

type Template = { label: string; segments: string[]; rest: boolean; rank: number[] };

// Next.js prefers a static segment to a dynamic one, and a dynamic one to a catch-all.
const compiled: Template[] = API_ROUTES.map((route) => {
  const segments = route.split("/").slice(1);
  const rest = segments.at(-1)?.startsWith("[...") ?? false;
  return {
    label: route.replace(/\[(?:\.\.\.)?(\w+)\]/g, "{$1}"),
    segments: rest ? segments.slice(0, -1) : segments,
    rest,
    rank: segments.map((s) => (s.startsWith("[...") ? 2 : s.startsWith("[") ? 1 : 0)),
  };
}).sort((a, b) => {
  for (let i = 0; i < Math.max(a.rank.length, b.rank.length); i++) {
    const diff = (a.rank[i] ?? -1) - (b.rank[i] ?? -1);
    if (diff !== 0) return diff;
  }
  return 0;
});

function matches(template: Template, parts: string[]): boolean {
  if (template.rest ? parts.length <= template.segments.length : parts.length !== template.segments.length) return false;
  return template.segments.every((segment, i) => segment.startsWith("[") || segment === parts[i]);
}

export function routeLabel(pathname: string): string {
  const parts = pathname.split("/").slice(1);
  if (parts.at(-1) === "") parts.pop();
  const template = compiled.find((t) => matches(t, parts));
  // The v1 catch-all exists only to answer unknown paths with problem+json.
  if (!template || template.label === "/api/v1/{path}") return UNMATCHED_ROUTE;
  return template.label;
}
