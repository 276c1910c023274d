import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import ipaddr from "ipaddr.js";
import { env } from "@/lib/env";
import { log } from "@/lib/log";

/**
 * The client's address, for the sign-in and sign-up throttles. A Next.js route handler never sees
 * the socket, and Next only fills X-Forwarded-For when the client sent none — so a client could
 * name any address it liked. `recordPeerAddresses` (run once at start-up) appends the connection's
 * own address to X-Forwarded-For before Next sees the request, as a reverse proxy does; the last
 * entry is then always the real peer, and `TRUST_PROXY` says how many entries to its left were
 * written by proxies we run.
 */

// On globalThis: instrumentation and the route bundles load separate copies of this module.
const holder = globalThis as typeof globalThis & { __botGptPeerAddresses?: boolean };

type RequestStart = { request: IncomingMessage; socket: Socket };

export function recordPeerAddresses(): void {
  if (holder.__botGptPeerAddresses) return;
  holder.__botGptPeerAddresses = true;
  // Published synchronously for every request an http(s) server parses, before its listeners run.
  subscribe("http.server.request.start", (message) => {
    const { request, socket } = message as RequestStart;
    const peer = socket.remoteAddress;
    if (!peer) return;
    const forwarded = request.headers["x-forwarded-for"];
    request.headers["x-forwarded-for"] = forwarded ? `${forwarded}, ${peer}` : peer;
  });
}

let warned = false;

/**
 * The address `TRUST_PROXY` hops left of the connection's, or null when the request carries none
 * (a handler called outside the server). With fewer entries than trusted hops, the leftmost.
 */
export function clientAddress(request: Request): string | null {
  if (!holder.__botGptPeerAddresses && env.NODE_ENV === "production" && !warned) {
    warned = true;
    log.warn("client addresses are not recorded (instrumentation did not run); X-Forwarded-For is taken as sent");
  }
  const chain = (request.headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (chain.length === 0) return null;
  return normalizeAddress(chain[Math.max(0, chain.length - 1 - env.TRUST_PROXY)] ?? "");
}

/** One bucket per IPv4 address and per IPv6 /64 (what one subscriber is usually given). */
function normalizeAddress(entry: string): string | null {
  // Some proxies add the port: "203.0.113.7:5123", "[2001:db8::1]:5123".
  const bare = /^\[(.+)\](?::\d+)?$/.exec(entry)?.[1] ?? (/^[\d.]+:\d+$/.test(entry) ? entry.slice(0, entry.lastIndexOf(":")) : entry);
  if (!ipaddr.isValid(bare)) return null;
  const address = ipaddr.process(bare);
  if (address.kind() === "ipv4") return address.toString();
  const network = [...address.toByteArray().slice(0, 8), 0, 0, 0, 0, 0, 0, 0, 0];
  return `${ipaddr.fromByteArray(network).toString()}/64`;
}
