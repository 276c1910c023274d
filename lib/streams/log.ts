import { and, asc, countDistinct, eq, gt, inArray, lt, or, sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import { getDb, type Db } from "@/lib/db/client";
import { streamEvents } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { getRedis } from "@/lib/redis";

/**
 * The stream log: each reply's UI-message-stream chunks under event ids 1, 2, 3…, appended in
 * order by the process generating it, readable from any process. Postgres holds it by default
 * (batched rows), Redis when REDIS_URL is set (one Redis stream per reply, entry id `0-<event id>`).
 * A `done` entry closes a reply's log; logs expire STREAM_LOG_TTL_SECONDS after that.
 */

export type StreamEvent = { id: number; chunk: string };
export type LogRead = { events: StreamEvent[]; done: boolean; exists: boolean };

export interface StreamLog {
  readonly kind: "postgres" | "redis";
  /** Appends events (ids continuing the log) and, with `done`, closes it. `nextId` names a bare done marker. */
  append(messageId: string, events: StreamEvent[], options: { done: boolean; nextId: number }): Promise<void>;
  /** Events after `afterId`, whether the log is closed, and whether it exists at all. */
  read(messageId: string, afterId: number): Promise<LogRead>;
  /** Removes logs that ended more than the TTL ago (and abandoned ones a day older); returns how many. `dryRun` only counts. */
  prune(options?: { dryRun?: boolean }): Promise<number>;
}

/** A log that has not been closed for this long belongs to a reply nobody is writing any more. */
const ABANDONED_AFTER_SECONDS = 24 * 3600;

type LogRow = typeof streamEvents.$inferInsert;
type Waiting = { row: LogRow; resolve: () => void; reject: (error: unknown) => void };

/**
 * Group commit: every reply appends a batch every 50 ms, so a thousand replies would be twenty
 * thousand single-row inserts a second, each holding a pool connection. Rows that arrive while an
 * insert is in flight wait for it and then go together in one multi-row insert: no added delay
 * when idle, far fewer statements under load. A failed multi-row insert is retried row by row, so
 * one bad row (its reply deleted meanwhile) fails only its own append.
 */
export function groupedInserts(insert: (rows: LogRow[]) => Promise<void>, maxRows = 500): (row: LogRow) => Promise<void> {
  let queue: Waiting[] = [];
  let running = false;
  async function drain(): Promise<void> {
    running = true;
    while (queue.length > 0) {
      const batch = queue.slice(0, maxRows);
      queue = queue.slice(batch.length);
      try {
        await insert(batch.map((w) => w.row));
        for (const w of batch) w.resolve();
      } catch (error) {
        if (batch.length === 1) batch[0]!.reject(error);
        else {
          await Promise.all(batch.map((w) => insert([w.row]).then(w.resolve, w.reject)));
        }
      }
    }
    running = false;
  }
  return (row) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ row, resolve, reject });
      if (!running) void drain();
    });
}

function postgresLog(getDb: () => Promise<Db>): StreamLog {
  // A retry of a batch that did land (its answer was lost) changes nothing.
  const insertRow = groupedInserts(async (rows) => {
    await (await getDb()).insert(streamEvents).values(rows).onConflictDoNothing();
  });
  return {
    kind: "postgres",
    async append(messageId, events, { done, nextId }) {
      if (events.length === 0 && !done) return;
      await insertRow({
        messageId,
        firstId: events[0]?.id ?? nextId,
        lastId: events.at(-1)?.id ?? nextId - 1,
        chunks: events.map((e) => e.chunk),
        done,
      });
    },
    async read(messageId, afterId) {
      const db = await getDb();
      const rows = await db
        .select({ firstId: streamEvents.firstId, chunks: streamEvents.chunks, done: streamEvents.done })
        .from(streamEvents)
        .where(and(eq(streamEvents.messageId, messageId), or(gt(streamEvents.lastId, afterId), eq(streamEvents.done, true))))
        .orderBy(asc(streamEvents.firstId));
      const events: StreamEvent[] = [];
      for (const row of rows) {
        row.chunks.forEach((chunk, i) => {
          const id = row.firstId + i;
          if (id > afterId) events.push({ id, chunk });
        });
      }
      const done = rows.some((r) => r.done);
      if (rows.length > 0) return { events, done, exists: true };
      const [any] = await db.select({ one: sql<number>`1` }).from(streamEvents).where(eq(streamEvents.messageId, messageId)).limit(1);
      return { events, done, exists: Boolean(any) };
    },
    async prune({ dryRun = false } = {}) {
      const db = await getDb();
      const ended = db
        .select({ id: streamEvents.messageId })
        .from(streamEvents)
        .where(and(eq(streamEvents.done, true), lt(streamEvents.createdAt, sql`now() - make_interval(secs => ${env.STREAM_LOG_TTL_SECONDS})`)));
      const expired = or(
        inArray(streamEvents.messageId, ended),
        lt(streamEvents.createdAt, sql`now() - make_interval(secs => ${env.STREAM_LOG_TTL_SECONDS + ABANDONED_AFTER_SECONDS})`),
      );
      if (dryRun) return (await db.select({ n: countDistinct(streamEvents.messageId) }).from(streamEvents).where(expired))[0]?.n ?? 0;
      const removed = await db.delete(streamEvents).where(expired).returning({ id: streamEvents.messageId });
      return new Set(removed.map((r) => r.id)).size;
    },
  };
}

const keyOf = (messageId: string) => `botgpt:stream:${messageId}`;

function redisLog(redis: Redis): StreamLog {
  return {
    kind: "redis",
    async append(messageId, events, { done, nextId }) {
      if (events.length === 0 && !done) return;
      const key = keyOf(messageId);
      const batch = redis.multi();
      for (const event of events) batch.xadd(key, `0-${event.id}`, "c", event.chunk);
      if (done) batch.xadd(key, `0-${nextId}`, "done", "1");
      // An open log outlives any reply; a closed one is kept for the resume window.
      batch.expire(key, done ? env.STREAM_LOG_TTL_SECONDS : env.STREAM_LOG_TTL_SECONDS + ABANDONED_AFTER_SECONDS);
      const results = await batch.exec();
      // A retried batch finds its first entries already there (ids only grow): that is not a failure.
      const failed = results?.find(([error]) => error && !/equal or smaller/i.test(error.message));
      if (failed?.[0]) throw failed[0];
    },
    async read(messageId, afterId) {
      const key = keyOf(messageId);
      const entries = await redis.xrange(key, `(0-${afterId}`, "+");
      const events: StreamEvent[] = [];
      let done = false;
      for (const [entryId, fields] of entries) {
        if (fields[0] === "done") {
          done = true;
          continue;
        }
        events.push({ id: Number(entryId.slice(2)), chunk: fields[1] ?? "" });
      }
      if (entries.length > 0) return { events, done, exists: true };
      return { events, done, exists: (await redis.exists(key)) === 1 };
    },
    // Redis expires closed logs itself.
    prune: async () => 0,
  };
}

let chosen: Promise<StreamLog> | undefined;

/** Redis when REDIS_URL is set, otherwise the database. */
export function getStreamLog(): Promise<StreamLog> {
  chosen ??= getRedis().then((redis) => (redis ? redisLog(redis) : postgresLog(getDb)));
  return chosen;
}

/** The log as start-up recovery reads it: the database handle being opened, or Redis. */
export async function recoveryLog(db: Db): Promise<StreamLog> {
  const redis = await getRedis();
  return redis ? redisLog(redis) : postgresLog(async () => db);
}

/** Tests: choose again after the environment changed. */
export function resetStreamLog(): void {
  chosen = undefined;
}

/** What a log's events add up to: the reply text, and the text part left open (if its writer stopped mid-part). */
export function summarizeEvents(events: StreamEvent[]): { text: string; openTextId: string | null } {
  let text = "";
  let openTextId: string | null = null;
  for (const event of events) {
    const chunk = JSON.parse(event.chunk) as { type?: string; id?: string; delta?: unknown };
    if (chunk.type === "text-delta" && typeof chunk.delta === "string") text += chunk.delta;
    else if (chunk.type === "text-start") openTextId = chunk.id ?? null;
    else if (chunk.type === "text-end") openTextId = null;
  }
  return { text, openTextId };
}

/** The reply text a log holds (start-up recovery uses it). */
export function textOfEvents(events: StreamEvent[]): string {
  return summarizeEvents(events).text;
}
