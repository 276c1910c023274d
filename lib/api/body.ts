import { env } from "@/lib/env";
import { AppError } from "./errors";

/**
 * Request bodies, read with a byte limit. Every route that reads a body goes through
 * `readBoundedBody`: a body without Content-Length (chunked) is counted as it streams in and its
 * stream is cancelled as soon as it passes the limit, so at most the limit plus one chunk is ever
 * held, however much the client sends.
 */

export function payloadTooLarge(maxBytes: number): AppError {
  return new AppError("payload_too_large", `Request bodies here are limited to ${maxBytes} bytes.`, {
    extensions: { max_bytes: maxBytes },
    // The rest of the body is never read: the connection cannot carry another request.
    headers: { connection: "close" },
  });
}

export async function readBoundedBody(request: Request, maxBytes: number, tooLarge: () => AppError = () => payloadTooLarge(maxBytes)): Promise<Buffer> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    parts.push(value);
  }
  return Buffer.concat(parts, total);
}

/**
 * How deeply arrays and objects nest in a JSON text, found in one pass without parsing, so a
 * body nested 10,000 deep is refused before any recursive walk (ours, zod's) could overflow.
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

export async function readJsonBody(request: Request, maxBytes = env.MAX_JSON_BODY_BYTES): Promise<{ text: string; value: unknown }> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new AppError("unsupported_media_type", "Send the body as application/json.");
  }
  const text = (await readBoundedBody(request, maxBytes)).toString("utf8");
  if (text.trim() === "") return { text, value: {} };
  if (jsonDepthExceeds(text, env.MAX_JSON_DEPTH)) {
    throw new AppError("invalid_json", `The JSON body nests arrays and objects deeper than ${env.MAX_JSON_DEPTH} levels.`, {
      extensions: { max_depth: env.MAX_JSON_DEPTH },
    });
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch {
    throw new AppError("invalid_json", "The request body is not valid JSON.");
  }
}

/** A multipart body of at most `maxBytes` of file (plus room for the framing), parsed. */
export async function readMultipartBody(request: Request, maxBytes: number): Promise<FormData> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\b/i.test(contentType)) {
    throw new AppError("unsupported_media_type", "Send the file as multipart/form-data with a `file` field.");
  }
  const tooLarge = () =>
    new AppError("file_too_large", `Uploads are limited to ${maxBytes} bytes (${Math.round(maxBytes / 1024 / 1024)} MB).`, {
      extensions: { max_bytes: maxBytes },
      headers: { connection: "close" },
    });
  // Room for the multipart framing around a file of exactly the limit.
  const bytes = await readBoundedBody(request, maxBytes + 64 * 1024, tooLarge);
  try {
    return await new Response(new Uint8Array(bytes), { headers: { "content-type": contentType } }).formData();
  } catch {
    throw new AppError("bad_request", "The multipart body could not be parsed.");
  }
}
