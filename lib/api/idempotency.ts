import { createHash } from "node:crypto";
import { and, count, eq, lt } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { idempotencyKeys } from "@/lib/db/schema";
import { AppError } from "./errors";
import { log } from "@/lib/log";

/**
 * Idempotency-Key on POST: the first response to (user, key) is stored and replayed for 24 h;
 * the same key with another request is a 409. A concurrent duplicate waits for the first to
 * finish and gets its response. Streamed responses are recorded as they are sent and replayed
 * byte for byte (minus heartbeats).
 */

const TTL_MS = 24 * 60 * 60 * 1000;
/** A `running` record older than this belonged to a request that died with its process. */
const LEASE_MS = 15 * 60 * 1000;
const WAIT_FOR_FIRST_MS = 15_000;
const POLL_MS = 100;
/** 1–255 visible ASCII characters; an empty or malformed key is 400 (also the OpenAPI header's pattern). */
export const IDEMPOTENCY_KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;
// Headers worth replaying; the request id and rate-limit headers belong to the new request.
const REPLAYED_HEADERS = ["content-type", "cache-control", "x-accel-buffering", "x-vercel-ai-ui-message-stream", "location"];

export function parseIdempotencyKey(request: Request): string | null {
  const key = request.headers.get("idempotency-key");
  if (key === null) return null;
  if (!IDEMPOTENCY_KEY_SHAPE.test(key)) {
    throw new AppError("bad_request", "Idempotency-Key must be 1–255 visible ASCII characters.");
  }
  return key;
}

/**
 * A JSON value written one way only: keys sorted, no whitespace, numbers as JavaScript prints them,
 * so the same request with its keys in another order or spaced differently is the same request.
 * (readJsonBody has bounded the nesting, so the recursion is shallow.)
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * A multipart form by its fields and files' bytes, not by its encoding: clients pick a new
 * boundary for every request, so the raw bytes of a retried upload differ.
 */
export async function formFingerprint(form: FormData): Promise<string> {
  const entries = await Promise.all(
    [...form.entries()].map(async ([name, value]) =>
      typeof value === "string"
        ? JSON.stringify([name, "field", value])
        : JSON.stringify([name, "file", value.name, value.type, createHash("sha256").update(new Uint8Array(await value.arrayBuffer())).digest("hex")]),
    ),
  );
  return entries.sort().join("\n");
}

export function requestFingerprint(method: string, path: string, body: string): string {
  return createHash("sha256").update(`${method}\n${path}\n${body}`).digest("hex");
}

/** Removes the records past their 24 h (with `dryRun`, only counts them); returns how many. */
export async function pruneIdempotencyKeys({ dryRun = false }: { dryRun?: boolean } = {}): Promise<number> {
  const db = await getDb();
  const expired = lt(idempotencyKeys.createdAt, new Date(Date.now() - TTL_MS));
  if (dryRun) return (await db.select({ n: count() }).from(idempotencyKeys).where(expired))[0]?.n ?? 0;
  return (await db.delete(idempotencyKeys).where(expired).returning({ key: idempotencyKeys.key })).length;
}

type Claim = { kind: "fresh" } | { kind: "replay"; response: Response };

async function claim(input: { userId: string; key: string; method: string; path: string; hash: string }): Promise<Claim> {
  const db = await getDb();
  // Now and then, clear records past their 24 h (the index on created_at keeps this cheap).
  if (Math.random() < 0.01) await pruneIdempotencyKeys();
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    const inserted = await db
      .insert(idempotencyKeys)
      .values({ userId: input.userId, key: input.key, method: input.method, path: input.path, requestHash: input.hash })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (inserted.length > 0) return { kind: "fresh" };

    const [existing] = await db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.userId, input.userId), eq(idempotencyKeys.key, input.key)));
    if (!existing) continue; // deleted between the two statements: try to claim again
    if (Date.now() - existing.createdAt.getTime() > TTL_MS) {
      await db
        .delete(idempotencyKeys)
        .where(and(eq(idempotencyKeys.userId, input.userId), eq(idempotencyKeys.key, input.key), lt(idempotencyKeys.createdAt, new Date(Date.now() - TTL_MS))));
      continue;
    }
    if (existing.requestHash !== input.hash) {
      throw new AppError("idempotency_key_reused", "This Idempotency-Key was used with a different request in the last 24 hours.");
    }
    if (existing.state === "running" && Date.now() - existing.createdAt.getTime() > LEASE_MS) {
      await db
        .delete(idempotencyKeys)
        .where(and(eq(idempotencyKeys.userId, input.userId), eq(idempotencyKeys.key, input.key), eq(idempotencyKeys.state, "running"), lt(idempotencyKeys.createdAt, new Date(Date.now() - LEASE_MS))));
      continue;
    }
    if (existing.state === "done") {
      const headers = new Headers(existing.responseHeaders ?? {});
      headers.set("idempotent-replayed", "true");
      return { kind: "replay", response: new Response(existing.responseBody, { status: existing.responseStatus ?? 200, headers }) };
    }
    if (Date.now() > deadline) {
      throw new AppError("idempotency_in_progress", "The first request with this Idempotency-Key has not finished yet.", {
        headers: { "retry-after": "1" },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function store(input: { userId: string; key: string }, response: { status: number; headers: Headers; body: string }) {
  const db = await getDb();
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  await db
    .update(idempotencyKeys)
    .set({ state: "done", responseStatus: response.status, responseHeaders: headers, responseBody: response.body })
    .where(and(eq(idempotencyKeys.userId, input.userId), eq(idempotencyKeys.key, input.key)));
}

async function release(input: { userId: string; key: string }) {
  const db = await getDb();
  await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.userId, input.userId), eq(idempotencyKeys.key, input.key)));
}

/**
 * Passes a streamed body through to the client while recording it; stores it when it ends. A
 * client leaving mid-stream does not end the reply (it runs to completion on the server), so the
 * rest is still read and recorded: a retry with the same key replays the whole reply. Only a
 * stream that breaks releases the key.
 */
function recordStream(response: Response, onDone: (body: string) => Promise<void>, onAbandoned: () => Promise<void>): Response {
  const source = response.body!.getReader();
  const decoder = new TextDecoder();
  let recorded = "";
  const finish = () => {
    void onDone(recorded.replace(/^: heartbeat\n\n/gm, "")).catch((error: unknown) => log.error({ err: error }, "idempotency store failed"));
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await source.read();
      if (done) {
        finish();
        controller.close();
        return;
      }
      recorded += decoder.decode(value, { stream: true });
      controller.enqueue(value);
    },
    cancel() {
      void (async () => {
        for (;;) {
          const { value, done } = await source.read();
          if (done) break;
          recorded += decoder.decode(value, { stream: true });
        }
        finish();
      })().catch(() => onAbandoned().catch(() => {}));
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

/**
 * Runs `execute` at most once per (user, Idempotency-Key). Without a key it simply runs.
 * Internal errors (500) are not stored, so a retry with the same key can succeed.
 */
export async function withIdempotency(
  input: { userId: string; key: string | null; method: string; path: string; body: string; signal: AbortSignal },
  execute: () => Promise<Response>,
  renderError: (error: unknown) => Response,
): Promise<Response> {
  if (!input.key) return execute();
  const ids = { userId: input.userId, key: input.key };
  const claimed = await claim({ ...ids, method: input.method, path: input.path, hash: requestFingerprint(input.method, input.path, input.body) });
  if (claimed.kind === "replay") return claimed.response;

  let response: Response;
  try {
    response = await execute();
  } catch (error) {
    response = renderError(error);
  }
  // A crash-class error or a client that left before the answer: nothing worth replaying.
  if (response.status === 500 || input.signal.aborted) {
    await release(ids);
    return response;
  }
  if (response.body && (response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    return recordStream(
      response,
      (body) => store(ids, { status: response.status, headers: response.headers, body }),
      () => release(ids),
    );
  }
  const body = await response.text();
  await store(ids, { status: response.status, headers: response.headers, body });
  return new Response(body, { status: response.status, headers: response.headers });
}
