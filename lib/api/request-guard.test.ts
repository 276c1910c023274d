import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installRequestGuard, UNSUPPORTED_METHOD_HEADER } from "./request-guard";

/**
 * The guard in front of Next.js's request handling, on a real HTTP server: what reaches the
 * server's own listener (which stands in for Next.js) and what is answered before it.
 */

const reached: Array<{ method: string; url: string; unsupported: string | undefined }> = [];
let server: http.Server;
let port: number;

beforeAll(async () => {
  installRequestGuard();
  server = http.createServer((req, res) => {
    reached.push({ method: req.method ?? "", url: req.url ?? "", unsupported: req.headers[UNSUPPORTED_METHOD_HEADER]?.toString() });
    res.end("next");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

// fetch() refuses TRACE itself, so these go through http.request.
function send(method: string, url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: url, headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("request guard", () => {
  it("answers TRACE (or PROPFIND…) on a page with 405 problem+json, Allow and a request id", async () => {
    // (Methods Node's parser does not know, such as TRACK, never get this far: Node answers 400.)
    for (const method of ["TRACE", "PROPFIND"]) {
      const res = await send(method, "/c/some-id", { "x-request-id": "trace-1" });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe("GET, HEAD");
      expect(res.headers["x-request-id"]).toBe("trace-1");
      expect(res.headers["content-type"]).toBe("application/problem+json");
      expect(JSON.parse(res.body)).toMatchObject({ code: "method_not_allowed", status: 405, request_id: "trace-1" });
    }
    expect(reached.filter((r) => r.url === "/c/some-id")).toEqual([]);
  });

  it("sends TRACE under /api on as OPTIONS, naming the method, for the route to answer", async () => {
    const res = await send("TRACE", "/api/v1/conversations");
    expect(res.body).toBe("next");
    expect(reached.at(-1)).toEqual({ method: "OPTIONS", url: "/api/v1/conversations", unsupported: "TRACE" });
  });

  it("answers a path that is not valid percent-encoding with 400", async () => {
    for (const url of ["/c/%ff", "/api/v1/conversations/%E0%A4%A", "/%"]) {
      const res = await send("GET", url);
      expect(res.status, url).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: "bad_request" });
    }
    // A malformed query string is not the path's problem.
    expect((await send("GET", "/c/abc?q=%ff")).body).toBe("next");
  });

  it("lets ordinary requests through untouched, and strips a client's own claim of an unsupported method", async () => {
    const res = await send("OPTIONS", "/api/v1/models", { [UNSUPPORTED_METHOD_HEADER]: "TRACE" });
    expect(res.body).toBe("next");
    expect(reached.at(-1)).toEqual({ method: "OPTIONS", url: "/api/v1/models", unsupported: undefined });
    expect((await send("GET", "/c/%41bc")).body).toBe("next");
  });
});
