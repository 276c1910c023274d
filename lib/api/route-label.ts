/**
 * The route a path belongs to, for log lines and metric labels: ids become placeholders so the
 * label set stays small (`/api/v1/conversations/{id}/messages`).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPAQUE = /^(?=.*\d)[A-Za-z0-9_-]{16,}$/;

export function routeLabel(pathname: string): string {
  const segments = pathname.split("/").map((segment) => (UUID.test(segment) || OPAQUE.test(segment) ? "{id}" : segment));
  const label = segments.join("/");
  return label.length > 120 ? label.slice(0, 120) : label;
}
