import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env } from "@/lib/env";
import { clientAddress, recordPeerAddresses } from "./client-address";

/** What a handler behind a real Node HTTP server computes, for headers the client chose. */
let server: http.Server;
let base = "";

beforeAll(async () => {
  recordPeerAddresses();
  server = http.createServer((req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    res.end(JSON.stringify({ address: clientAddress(new Request("http://localhost/", { headers })) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function seen(headers: Record<string, string> = {}, trustProxy = 0): Promise<string | null> {
  const saved = env.TRUST_PROXY;
  env.TRUST_PROXY = trustProxy;
  try {
    return ((await (await fetch(base, { headers })).json()) as { address: string | null }).address;
  } finally {
    env.TRUST_PROXY = saved;
  }
}

describe("client address", () => {
  it("is the connection's address, whatever X-Forwarded-For the client sends", async () => {
    expect(await seen()).toBe("127.0.0.1");
    expect(await seen({ "x-forwarded-for": "203.0.113.9" })).toBe("127.0.0.1");
    expect(await seen({ "x-forwarded-for": "203.0.113.9, 198.51.100.1" })).toBe("127.0.0.1");
  });

  it("with TRUST_PROXY=n, is the entry n hops left of the connection (what our proxies wrote)", async () => {
    // One proxy appended the client it saw (198.51.100.1); what that client claimed (203.0.113.9) is ignored.
    expect(await seen({ "x-forwarded-for": "203.0.113.9, 198.51.100.1" }, 1)).toBe("198.51.100.1");
    expect(await seen({ "x-forwarded-for": "203.0.113.9, 198.51.100.1" }, 2)).toBe("203.0.113.9");
    // Fewer entries than trusted hops: the leftmost there is.
    expect(await seen({}, 3)).toBe("127.0.0.1");
  });

  it("counts an IPv6 /64 as one address and strips ports and IPv4 mapping", () => {
    const of = (xff: string) => clientAddress(new Request("http://localhost/", { headers: { "x-forwarded-for": xff } }));
    expect(of("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(of("[2001:db8:1:2:bbbb::7]:443")).toBe("2001:db8:1:2::/64");
    expect(of("::ffff:192.0.2.10")).toBe("192.0.2.10");
    expect(of("192.0.2.10:5123")).toBe("192.0.2.10");
    expect(of("not an address")).toBeNull();
    expect(clientAddress(new Request("http://localhost/"))).toBeNull();
  });
});
