/** A small reader for the app's reply streams in scripts: events with their ids, stopping when told. */

export type StreamEventRead = { id: number | null; chunk: { type: string; [key: string]: unknown } };

export async function readEvents(
  response: Response,
  onEvent?: (event: StreamEventRead) => boolean | void,
): Promise<{ events: StreamEventRead[]; done: boolean }> {
  const events: StreamEventRead[] = [];
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
        if (block.startsWith(":")) continue;
        const lines = block.split("\n");
        const data = lines
          .filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6))
          .join("\n");
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        if (!data) continue;
        const idLine = lines.find((l) => l.startsWith("id: "));
        const event = { id: idLine ? Number(idLine.slice(4)) : null, chunk: JSON.parse(data) as StreamEventRead["chunk"] };
        events.push(event);
        if (onEvent?.(event) === false) break outer;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return { events, done };
}

export const textOf = (events: StreamEventRead[]) =>
  events
    .filter((e) => e.chunk.type === "text-delta")
    .map((e) => String(e.chunk.delta))
    .join("");
