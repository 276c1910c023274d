import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { getAuthSecret } from "@/lib/auth/secret";
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

/** What a cursor is bound to: the user it was issued to and the list it pages. */
export type CursorScope = { userId: string; list: string };

/**
 * The cursor's MAC: HMAC-SHA-256 under a key derived from the auth secret (so it is valid as
 * nothing else), over the user, the list and the payload; 128 bits of it are plenty.
 */
async function cursorTag(payload: string, scope: CursorScope): Promise<Buffer> {
  const key = createHmac("sha256", await getAuthSecret()).update("bot-gpt pagination cursor v1").digest();
  return createHmac("sha256", key).update(`${scope.userId}\n${scope.list}\n${payload}`).digest().subarray(0, 16);
}

/**
 * Cursors are opaque to callers: base64url JSON of the last row's sort key, then a MAC binding it
 * to the user and the list — another user's cursor, or one from another list, is refused.
 */
export async function encodeCursor(value: unknown, scope: CursorScope): Promise<string> {
  const payload = Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${payload}.${(await cursorTag(payload, scope)).toString("base64url")}`;
}

export async function decodeCursor<T>(cursor: string, scope: CursorScope, isValid: (value: unknown) => value is T): Promise<T> {
  const invalid = () => new AppError("invalid_cursor", "The cursor is not one this API issued for this list.");
  const [payload, tag, ...rest] = cursor.split(".");
  if (!payload || !tag || rest.length > 0) throw invalid();
  const expected = await cursorTag(payload, scope);
  const given = Buffer.from(tag, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!isValid(value)) throw invalid();
  return value;
}
