import { env } from "@/lib/env";
import { log } from "@/lib/log";

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

/**
 * A server-sent-events response driven by the server, not by the reader: `run` keeps going (and
 * saves what it must) even if nobody reads; a client that leaves aborts `signal`. Heartbeat
 * comments keep proxies from timing out a slow first token; `data: [DONE]` ends the stream.
 */
export function sseResponse(input: {
  requestSignal: AbortSignal;
  status: number;
  headers?: Record<string, string>;
  heartbeatMs?: number;
  run: (io: { send: (event: string) => void; signal: AbortSignal }) => Promise<void>;
}): Response {
  const abort = new AbortController();
  const onRequestAbort = () => abort.abort();
  input.requestSignal.addEventListener("abort", onRequestAbort, { once: true });
  const encoder = new TextEncoder();
  let closed = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (event: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(event));
        } catch {
          closed = true;
        }
      };
      heartbeat = setInterval(() => send(": heartbeat\n\n"), input.heartbeatMs ?? env.STREAM_HEARTBEAT_MS);
      void input
        .run({ send, signal: abort.signal })
        .catch((error: unknown) => log.error({ err: error }, "stream failed"))
        .finally(() => {
          send("data: [DONE]\n\n");
          clearInterval(heartbeat);
          input.requestSignal.removeEventListener("abort", onRequestAbort);
          if (!closed) {
            closed = true;
            try {
              controller.close();
            } catch {
              // already cancelled by the reader
            }
          }
        });
    },
    cancel() {
      closed = true;
      clearInterval(heartbeat);
      abort.abort();
    },
  });

  return new Response(body, {
    status: input.status,
    headers: { ...SSE_HEADERS, ...input.headers },
  });
}

export const sseData = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;

/** Where a stream of numbered events goes; `end` sends `data: [DONE]` and closes. */
export type EventSink = { event: (id: number, data: string) => void; end: () => void };

/**
 * A server-sent-events response fed by a subscription (a reply run, or a stream log being
 * followed): events carry their `id:` so a client can reconnect with Last-Event-ID. A reader
 * leaving only unsubscribes — whatever produces the events carries on.
 */
export function subscriptionResponse(input: {
  status: number;
  headers?: Record<string, string>;
  heartbeatMs?: number;
  subscribe: (sink: EventSink) => () => void;
}): Response {
  const encoder = new TextEncoder();
  let closed = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let unsubscribe: (() => void) | undefined;
  const stop = () => {
    closed = true;
    clearInterval(heartbeat);
    unsubscribe?.();
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop();
        }
      };
      heartbeat = setInterval(() => send(": heartbeat\n\n"), input.heartbeatMs ?? env.STREAM_HEARTBEAT_MS);
      unsubscribe = input.subscribe({
        event: (id, data) => send(`id: ${id}\ndata: ${data}\n\n`),
        end: () => {
          send("data: [DONE]\n\n");
          if (closed) return;
          stop();
          try {
            controller.close();
          } catch {
            // already cancelled by the reader
          }
        },
      });
      if (closed) unsubscribe();
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, { status: input.status, headers: { ...SSE_HEADERS, ...input.headers } });
}
