import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Real sockets for tests that need them: route handlers served over loopback HTTP, and a reverse
 * proxy that buffers responses the way nginx does by default.
 */

type RouteHandler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
export type Route = { method: string; pattern: RegExp; handler: RouteHandler; params: string[] };

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Serves route handlers over HTTP; a client that goes away aborts the Request's signal, as in Next.js. */
export async function serveRoutes(routes: Route[]): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const match = route.pattern.exec(url.pathname)!;
    const params = Object.fromEntries(route.params.map((name, i) => [name, match[i + 1] ?? ""]));
    const body: Buffer[] = [];
    req.on("data", (chunk: Buffer) => body.push(chunk));
    req.on("end", () => {
      const abort = new AbortController();
      res.on("close", () => abort.abort());
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
      const request = new Request(url, {
        method: req.method,
        headers,
        body: body.length > 0 ? Buffer.concat(body) : undefined,
        signal: abort.signal,
      });
      void route.handler(request, { params: Promise.resolve(params) }).then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        if (!response.body) return void res.end();
        const reader = response.body.getReader();
        res.on("close", () => void reader.cancel().catch(() => {}));
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
          if (done) break;
          res.write(value);
        }
        res.end();
      });
    });
  });
  return { url: await listen(server), close: () => close(server) };
}

/**
 * A reverse proxy like nginx's defaults: it buffers each response whole before passing it on
 * unless the upstream sends `X-Accel-Buffering: no`, and it drops a connection whose upstream says
 * nothing for `idleTimeoutMs` (proxy_read_timeout).
 */
export async function startBufferingProxy(upstream: string, idleTimeoutMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    const forward = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        const buffering = String(upstreamRes.headers["x-accel-buffering"] ?? "").toLowerCase() !== "no";
        const held: Buffer[] = [];
        let idle: ReturnType<typeof setTimeout>;
        const arm = () => {
          clearTimeout(idle);
          idle = setTimeout(() => {
            upstreamRes.destroy();
            res.destroy();
          }, idleTimeoutMs);
        };
        arm();
        if (!buffering) res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.on("data", (chunk: Buffer) => {
          arm();
          if (buffering) held.push(chunk);
          else res.write(chunk);
        });
        upstreamRes.on("end", () => {
          clearTimeout(idle);
          if (buffering) res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers).end(Buffer.concat(held));
          else res.end();
        });
        upstreamRes.on("error", () => res.destroy());
      },
    );
    forward.on("error", () => res.destroy());
    res.on("close", () => forward.destroy());
    req.pipe(forward);
  });
  return { url: await listen(server), close: () => close(server) };
}
