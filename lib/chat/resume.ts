import { AppError } from "@/lib/api/errors";
import { getMessage, requestStop } from "@/lib/db/queries/messages";
import type { Message } from "@/lib/db/schema";
import { getStreamLog, summarizeEvents, type LogRead, type StreamEvent, type StreamLog } from "@/lib/streams/log";
import { localRun } from "@/lib/streams/runs";
import { endChunks, replayChunks, textPartId } from "./chunks";
import { subscriptionResponse, type EventSink } from "./sse";
import { log as logger } from "@/lib/log";

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

/**
 * Follows a log written elsewhere until it closes — or until its writer is found gone: the row
 * ended without closing the log (the end is rebuilt from the row, with any text the log missed),
 * or the row has not been touched for longer than a live writer ever leaves it (a dead process).
 */
function followLog(log: StreamLog, message: Message, afterId: number, first: LogRead, sink: EventSink): () => void {
  let cancelled = false;
  const ids = { id: message.id, conversationId: message.conversationId };
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
        const row = await getMessage(ids).catch(() => message);
        const quiet = Date.now() - lastProgress >= STATUS_CHECK_MS;
        const ended = row !== null && row.status !== "streaming";
        const abandoned = row !== null && row.status === "streaming" && Date.now() - row.updatedAt.getTime() > WRITER_SILENT_MS;
        if (row === null || (quiet && (ended || abandoned))) {
          if (row) closeFromRow(ended ? row : { ...row, status: "interrupted", error: ABANDONED }, (await log.read(message.id, 0).catch(() => first)).events, () => ++last, sink);
          break;
        }
      }
      await sleep(TAIL_POLL_MS);
      if (cancelled) break;
      read = await log.read(message.id, last).catch(() => ({ events: [], done: false, exists: true }));
    }
    if (!cancelled) sink.end();
  })().catch((error: unknown) => {
    logger.error({ message_id: message.id, err: error }, "following a stream log failed");
    sink.end();
  });
  return () => {
    cancelled = true;
  };
}

/** A live writer touches its row every 5 s; one silent this long is gone. */
const WRITER_SILENT_MS = 30_000;
const ABANDONED = { code: "interrupted", title: "Reply interrupted", status: 503, detail: "The server writing this reply stopped before it finished." };

/** Ends a stream its writer did not close, as the stored row ended. */
function closeFromRow(row: Message, logged: StreamEvent[], nextId: () => number, sink: EventSink): void {
  const send = (chunk: unknown) => sink.event(nextId(), JSON.stringify(chunk));
  if (logged.length === 0) {
    // Nothing was ever logged (a reply written without a log, e.g. by the OpenAI-compatible
    // endpoint): the stored reply, whole.
    replayChunks(row).forEach(send);
    return;
  }
  // The text the log missed (its last batches never made it) comes from the row.
  const { text: loggedText, openTextId } = summarizeEvents(logged);
  let open = openTextId;
  if (row.content.length > loggedText.length && row.content.startsWith(loggedText)) {
    if (!open) {
      open = textPartId(row.id);
      send({ type: "text-start", id: open });
    }
    send({ type: "text-delta", id: open, delta: row.content.slice(loggedText.length) });
  }
  if (open) send({ type: "text-end", id: open });
  endChunks(row).forEach(send);
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
export async function stopReply(message: Message, options: { local?: boolean } = {}): Promise<{ message: Message; settled: boolean }> {
  assertReply(message);
  if (message.status !== "streaming") return { message, settled: true };
  const deadline = Date.now() + STOP_WAIT_MS;
  const ids = { id: message.id, conversationId: message.conversationId };
  const run = options.local === false ? undefined : localRun(message.id);
  if (run) {
    run.stop();
    await Promise.race([run.settled, sleep(STOP_WAIT_MS)]);
  } else {
    await requestStop(ids);
  }
  for (;;) {
    const row = (await getMessage(ids)) ?? message;
    if (row.status !== "streaming" || Date.now() >= deadline) return { message: row, settled: row.status !== "streaming" };
    await sleep(TAIL_POLL_MS);
  }
}
