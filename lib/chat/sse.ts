export const HEARTBEAT_MS = 15_000;

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
      heartbeat = setInterval(() => send(": heartbeat\n\n"), input.heartbeatMs ?? HEARTBEAT_MS);
      void input
        .run({ send, signal: abort.signal })
        .catch((error: unknown) => console.error("stream failed", error))
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
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      ...input.headers,
    },
  });
}

export const sseData = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
