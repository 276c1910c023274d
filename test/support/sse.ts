/**
 * Reads a reply stream (server-sent events carrying AI SDK UI message parts) the way a client
 * does: each event with its `id:`, heartbeat comments counted, `data: [DONE]` noted. Used by the
 * tests and by the bench scripts that drive a real server.
 */

export type UiChunk = { type: string; [key: string]: unknown };
export type SseEvent = { id: number | null; chunk: UiChunk };

/** `onEvent` may return false to stop reading (a client disconnecting). */
export async function readSseEvents(
  response: Response,
  onEvent?: (event: SseEvent) => boolean | void,
): Promise<{ events: SseEvent[]; heartbeats: number; done: boolean }> {
  const events: SseEvent[] = [];
  let heartbeats = 0;
  let done = false;
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    outer: for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += value;
      let index: number;
      while ((index = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        if (block.startsWith(":")) {
          heartbeats++;
          continue;
        }
        const lines = block.split("\n");
        const data = lines
          .filter((line) => line.startsWith("data: "))
          .map((line) => line.slice(6))
          .join("\n");
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        if (!data) continue;
        const idLine = lines.find((line) => line.startsWith("id: "));
        const event = { id: idLine ? Number(idLine.slice(4)) : null, chunk: JSON.parse(data) as UiChunk };
        events.push(event);
        if (onEvent?.(event) === false) break outer;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return { events, heartbeats, done };
}

/** The reply text the events carry. */
export function textOfEvents(events: SseEvent[]): string {
  return events
    .filter((e) => e.chunk.type === "text-delta")
    .map((e) => String(e.chunk.delta))
    .join("");
}
