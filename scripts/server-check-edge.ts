/**
 * The HTTP edge of a running production server (part of scripts/server-check.ts): what only a
 * real `next start` shows, because Next.js itself handles it before or around our route code.
 *
 * - Bodies: 10 concurrent chunked (no Content-Length) 300 MB bodies to sign-up and to next-auth's
 *   credentials callback; each is refused at its limit and the server's RSS stays flat.
 * - Requests Next.js used to answer 500: TRACE, a malformed percent-encoded path, an odd
 *   callbackUrl; 405 with Allow and problem+json; OPTIONS and 405 with X-Request-Id.
 * - next-auth's own HTML pages carry the Content-Security-Policy.
 */
import http from "node:http";
import { readFileSync } from "node:fs";

type Check = (name: string, ok: boolean, detail?: unknown) => void;

const MB = 1024 * 1024;
const BODY_BYTES = 300 * MB;
const CONCURRENT = 10;
const RSS_GROWTH_LIMIT_MB = 150;

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** A chunked body that would go on to `total` bytes if the server kept reading. */
function hugeBody(total: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
}

/** 413, or the connection closed by a server that stopped reading: either way refused, not read. */
async function sendHuge(url: string, contentType: string, origin: string): Promise<string> {
  const init: RequestInit & { duplex: "half" } = { method: "POST", headers: { "content-type": contentType, origin }, body: hugeBody(BODY_BYTES), duplex: "half" };
  try {
    const response = await fetch(url, init);
    await response.body?.cancel();
    return String(response.status);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? "closed";
  }
}

async function bodiesStayFlat(base: string, pid: number, check: Check): Promise<void> {
  for (const [name, path, type] of [
    ["sign-up", "/api/auth/sign-up", "application/json"],
    ["the credentials callback", "/api/auth/callback/credentials", "application/x-www-form-urlencoded"],
  ] as const) {
    const before = rssMb(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 25);
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: CONCURRENT }, () => sendHuge(`${base}${path}`, type, base)));
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(pid));
    const refused = outcomes.every((o) => o === "413" || o === "ECONNRESET" || o === "EPIPE" || o === "UND_ERR_SOCKET" || o === "closed");
    const detail = { outcomes, rssBeforeMb: Math.round(before), rssPeakMb: Math.round(peak), ms: Date.now() - started };
    check(`${CONCURRENT} concurrent chunked ${BODY_BYTES / MB} MB bodies to ${name}: refused at the limit, RSS grows < ${RSS_GROWTH_LIMIT_MB} MB`, refused && peak - before < RSS_GROWTH_LIMIT_MB, detail);
  }
  const health = await fetch(`${base}/api/health`);
  check("the server answers normally after the oversized bodies", health.status === 200);
}

/** node:http, because fetch() refuses to send TRACE. */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path, headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function problemCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

type ServerLog = { mark: () => number; since: (mark: number) => string };

async function noFrameworkErrors(base: string, log: ServerLog, check: Check): Promise<void> {
  const mark = log.mark();
  const trace = await raw(base, "TRACE", "/api/v1/conversations", { "x-request-id": "edge-trace" });
  check(
    "TRACE on an /api/v1 route: 405 problem+json with the route's Allow and X-Request-Id",
    trace.status === 405 && problemCode(trace.body) === "method_not_allowed" && trace.headers.allow === "GET, HEAD, OPTIONS, POST" && trace.headers["x-request-id"] === "edge-trace",
    { status: trace.status, allow: trace.headers.allow, body: trace.body.slice(0, 200) },
  );
  const pageTrace = await raw(base, "TRACE", "/");
  check("TRACE on a page: 405", pageTrace.status === 405 && problemCode(pageTrace.body) === "method_not_allowed", { status: pageTrace.status });
  for (const path of ["/c/%ff", "/api/v1/conversations/%ff"]) {
    const res = await raw(base, "GET", path);
    check(`GET ${path}: 400 problem+json`, res.status === 400 && problemCode(res.body) === "bad_request", { status: res.status, body: res.body.slice(0, 200) });
  }
  const put = await raw(base, "PUT", "/api/v1/conversations", { "x-request-id": "edge-put" });
  check(
    "PUT on a GET/POST route: 405 problem+json, Allow, X-Request-Id",
    put.status === 405 && problemCode(put.body) === "method_not_allowed" && put.headers.allow === "GET, HEAD, OPTIONS, POST" && put.headers["x-request-id"] === "edge-put",
    { status: put.status, headers: put.headers },
  );
  const options = await raw(base, "OPTIONS", "/api/auth/sign-up", { "x-request-id": "edge-options" });
  check("OPTIONS: 204 with Allow and X-Request-Id", options.status === 204 && options.headers.allow === "OPTIONS, POST" && options.headers["x-request-id"] === "edge-options", { status: options.status, headers: options.headers });
  const callback = await raw(base, "GET", `/api/auth/signin?callbackUrl=${encodeURIComponent("http://[")}`);
  check("an odd callbackUrl on a next-auth page: 400", callback.status === 400 && problemCode(callback.body) === "bad_request", { status: callback.status });
  const cookie = await raw(base, "GET", "/api/auth/session", { cookie: `next-auth.callback-url=${encodeURIComponent("http://[")}` });
  check("an odd callback-url cookie: 400 and cleared", cookie.status === 400 && String(cookie.headers["set-cookie"]).includes("Max-Age=0"), { status: cookie.status });
  const deep = await fetch(`${base}/api/auth/sign-up`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: `{"email":"deep@example.test","password":"long enough","name":${"[".repeat(10_000)}${"]".repeat(10_000)}}`,
  });
  check("JSON nested 10,000 deep: 400", deep.status === 400 && problemCode(await deep.text()) === "invalid_json", { status: deep.status });
  await new Promise((resolve) => setTimeout(resolve, 300)); // the last log lines
  const logged = log.since(mark);
  check("none of these left a stack trace or a 500 in the server's output", !/TypeError|URIError|RangeError|"status":500/.test(logged), logged.slice(0, 600));
}

async function authPagesHaveCsp(base: string, check: Check): Promise<void> {
  for (const path of ["/api/auth/error", "/api/auth/signout", "/api/auth/verify-request"]) {
    const res = await fetch(`${base}${path}`, { redirect: "manual" });
    const csp = res.headers.get("content-security-policy") ?? "";
    const html = (res.headers.get("content-type") ?? "").startsWith("text/html");
    check(`next-auth's page ${path} carries the CSP`, html && csp.includes("default-src 'self'") && csp.includes("frame-ancestors 'none'"), { status: res.status, type: res.headers.get("content-type"), csp });
  }
}

export async function checkEdge(input: { base: string; pid: number; log: ServerLog; check: Check }): Promise<void> {
  await noFrameworkErrors(input.base, input.log, input.check);
  await authPagesHaveCsp(input.base, input.check);
  await bodiesStayFlat(input.base, input.pid, input.check);
}
