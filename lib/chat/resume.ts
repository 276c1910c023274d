import { AppError } from "@/lib/api/errors";
import { getMessage, requestStop } from "@/lib/db/queries/messages";
import type { Message } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { getStreamLog, type LogRead, type StreamEvent, type StreamLog } from "@/lib/streams/log";
import { localRun } from "@/lib/streams/runs";
import { endChunks, replayChunks } from "./chunks";
import { subscriptionResponse, type EventSink } from "./sse";

/**
 * Reconnecting to a reply's stream, and stopping a reply, from any instance. The instance that
 * generates a reply serves readers from memory; any other one reads the stream log and follows it
 * until the reply's log is closed.
 */

const TAIL_POLL_MS = 100;
/** A log that stops growing while its reply is no longer streaming was left by a process that died. */
const STATUS_CHECK_MS = 2_000;
const STOP_WAIT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Last-Event-ID a reconnecting client sent (header, or `last_event_id` for clients that cannot set one). */
export function lastEventIdOf(request: Request, fromQuery: number | undefined): number {
  const header = request.headers.get("last-event-id");
  if (header === null || header.trim() === "") return fromQuery ?? 0;
  if (!/^\d{1,9}$/.test(header.trim())) {
    throw new AppError("invalid_last_event_id", "Last-Event-ID must be an event id from this stream (a non-negative integer).");
  }
  return Number(header.trim());
}

function assertReply(message: Message): void {
  if (message.role !== "assistant") throw new AppError("stream_not_found", "Only assistant replies have a stream.");
}

/** The id of a text part a log started and never ended. */
function openTextPart(events: StreamEvent[]): string | null {
  let open: string | null = null;
  for (const event of events) {
    const chunk = JSON.parse(event.chunk) as { type?: string; id?: string };
    if (chunk.type === "text-start") open = chunk.id ?? null;
    if (chunk.type === "text-end") open = null;
  }
  return open;
}

/** Follows a log written elsewhere until it closes (or its writer is found dead). */
function followLog(log: StreamLog, message: Message, afterId: number, first: LogRead, sink: EventSink): () => void {
  let cancelled = false;
  void (async () => {
    let read = first;
    let last = afterId;
    let lastProgress = Date.now();
    let lastCheck = Date.now();
    for (;;) {
      for (const event of read.events) {
        if (event.id <= last) continue;
        last = event.id;
        sink.event(event.id, event.chunk);
      }
      if (read.events.length > 0) lastProgress = Date.now();
      if (read.done || cancelled) break;
      if (Date.now() - lastCheck >= STATUS_CHECK_MS) {
        lastCheck = Date.now();
        const row = await getMessage(message.id).catch(() => message);
        const idle = Date.now() - lastProgress;
        const writerGone = row === null || (row.status !== "streaming" && idle >= STATUS_CHECK_MS);
        const givenUp = idle > env.MODEL_TOTAL_TIMEOUT_MS + 60_000;
        if (writerGone && row && last === 0) {
          // Nothing was ever logged (a reply written without a log, e.g. by the OpenAI-compatible
          // endpoint): the stored reply, whole.
          replayChunks(row).forEach((chunk) => sink.event(++last, JSON.stringify(chunk)));
          break;
        }
        if (writerGone || givenUp) {
          // Close the stream the way the stored row ended (and the text part its writer left open).
          const openText = openTextPart((await log.read(message.id, 0).catch(() => first)).events);
          if (openText) sink.event(++last, JSON.stringify({ type: "text-end", id: openText }));
          if (row) for (const chunk of endChunks(row.status === "streaming" ? { ...row, status: "interrupted" } : row)) sink.event(++last, JSON.stringify(chunk));
          break;
        }
      }
      await sleep(TAIL_POLL_MS);
      if (cancelled) break;
      read = await log.read(message.id, last).catch(() => ({ events: [], done: false, exists: true }));
    }
    if (!cancelled) sink.end();
  })().catch((error: unknown) => {
    console.error("following a stream log failed", error);
    sink.end();
  });
  return () => {
    cancelled = true;
  };
}

const streamHeaders = { "x-vercel-ai-ui-message-stream": "v1" };

/**
 * The reply's stream after event `afterId`: live from this process, followed through the stream
 * log from another, or — for a finished reply whose log has expired — replayed from the stored
 * row (only from the start: event ids from the original stream no longer exist).
 */
export async function resumeReply(message: Message, afterId: number, options: { local?: boolean } = {}): Promise<Response> {
  assertReply(message);
  // `local: false` reads through the log even here, as another instance would (tests, benchmarks).
  const run = options.local === false ? undefined : localRun(message.id);
  if (run) {
    return subscriptionResponse({
      status: 200,
      headers: streamHeaders,
      subscribe: (sink) => run.subscribe(afterId, { event: (e) => sink.event(e.id, e.chunk), end: sink.end }),
    });
  }
  const log = await getStreamLog();
  const first = await log.read(message.id, afterId);
  if (!first.exists && message.status !== "streaming") {
    if (afterId > 0) {
      throw new AppError("stream_expired", "This reply's stream log has expired; GET the conversation or reconnect without Last-Event-ID for the whole reply.");
    }
    const chunks = replayChunks(message);
    return subscriptionResponse({
      status: 200,
      headers: streamHeaders,
      subscribe: (sink) => {
        chunks.forEach((chunk, i) => sink.event(i + 1, JSON.stringify(chunk)));
        sink.end();
        return () => {};
      },
    });
  }
  return subscriptionResponse({ status: 200, headers: streamHeaders, subscribe: (sink) => followLog(log, message, afterId, first, sink) });
}

/**
 * Stops a reply: at once when this process generates it, otherwise by flagging the row for the
 * process that does. Waits briefly for the reply to settle; `settled` false means it is still
 * stopping (the caller answers 202).
 */
export async function stopReply(message: Message): Promise<{ message: Message; settled: boolean }> {
  assertReply(message);
  if (message.status !== "streaming") return { message, settled: true };
  const run = localRun(message.id);
  if (run) {
    run.stop();
    await Promise.race([run.settled, sleep(STOP_WAIT_MS)]);
  } else {
    await requestStop(message.id);
  }
  const deadline = Date.now() + STOP_WAIT_MS;
  for (;;) {
    const row = (await getMessage(message.id)) ?? message;
    if (row.status !== "streaming" || Date.now() >= deadline) return { message: row, settled: row.status !== "streaming" };
    await sleep(TAIL_POLL_MS);
  }
}
