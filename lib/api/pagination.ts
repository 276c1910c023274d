import { z } from "zod";
import { AppError } from "./errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

// Exactly what Postgres prints for timestamptz::text, so the cast back can never fail.
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** A keyset cursor over (timestamp, id), as issued by the list endpoints. */
export function isTimestampIdCursor(value: unknown): value is { at: string; id: string } {
  const v = value as { at?: unknown; id?: unknown } | null;
  return typeof v?.at === "string" && PG_TIMESTAMP.test(v.at) && !v.at.startsWith("0000") && typeof v.id === "string" && isUuid(v.id);
}

/** `?limit=` (1–100, default 20) and an opaque `?cursor=`. */
export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(500).optional(),
});

/** Cursors are opaque to callers: base64url JSON of the last row's sort key. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export function decodeCursor<T>(cursor: string, isValid: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new AppError("invalid_cursor", "The cursor is not one this API issued.");
  }
  if (!isValid(value)) throw new AppError("invalid_cursor", "The cursor is not one this API issued.");
  return value;
}
