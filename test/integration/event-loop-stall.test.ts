import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * Long input must not stall the server: BPE counting was quadratic in one pre-token, and a single
 * 32,000-character CJK message (the allowed maximum) blocked the event loop for ~25 s — every
 * other request, /api/health included, waited. The stall is measured on this process, where the
 * route handlers (and the mock provider) run, while the real handlers answer.
 */

let h: Harness;
let cookie: string;
let conversationsRoute: typeof import("@/app/api/v1/conversations/route");
let messagesRoute: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let completionsRoute: typeof import("@/app/api/v1/chat/completions/route");

/** Pseudo-random CJK ideographs: no two neighbours form a known word, the costliest case for BPE. */
function ideographs(length: number, seed: number): string {
  let state = seed;
  return Array.from({ length }, () => String.fromCharCode(0x4e00 + ((state = (state * 1103515245 + 12345) % 2147483648) % 20_000))).join("");
}

/** The longest the event loop was blocked while `work` ran, in milliseconds. */
async function worstStall(work: () => Promise<void>): Promise<number> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  try {
    await work();
  } finally {
    delay.disable();
  }
  return delay.max / 1e6;
}

beforeAll(async () => {
  h = await startHarness();
  conversationsRoute = await import("@/app/api/v1/conversations/route");
  messagesRoute = await import("@/app/api/v1/conversations/[id]/messages/route");
  completionsRoute = await import("@/app/api/v1/chat/completions/route");
  ({ cookie } = await h.signUp());
  // A running server has built the tokenizer's tables at start-up (instrumentation.ts).
  (await import("@/lib/context/bpe-count.mjs")).warmBpe();
});
afterAll(() => h.close());
beforeEach(() => h.mock.reset());

describe("the event loop while long input is counted", () => {
  it("stays responsive through a 32,000-character CJK message", async () => {
    const created = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini" } });
    const id = ((await created.json()) as { conversation: { id: string } }).conversation.id;
    // Warm the route's code paths with a short turn first: module loading is not what is measured.
    expect((await call(messagesRoute.POST, { cookie, params: { id }, body: { content: "hello", stream: false } })).status).toBe(201);

    const content = ideographs(32_000, 1);
    let status = 0;
    let reply: { status: string; prompt_tokens: number | null } | undefined;
    const stall = await worstStall(async () => {
      const res = await call(messagesRoute.POST, { cookie, params: { id }, body: { content, stream: false } });
      status = res.status;
      reply = ((await res.json()) as { assistant_message: { status: string; prompt_tokens: number | null } }).assistant_message;
    });
    expect(status).toBe(201);
    // The whole message reached the model (the mock counts what it receives).
    expect(reply).toMatchObject({ status: "complete" });
    expect(reply?.prompt_tokens).toBeGreaterThan(32_000);
    // Generous: the rule is 50 ms, this machine is shared; it was tens of seconds.
    expect(stall).toBeLessThan(300);
  }, 120_000);

  it("stays responsive through 48,000 characters of chat completion messages", async () => {
    const warm = await call(completionsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "hi" }] } });
    expect(warm.status).toBe(200);

    const messages = [
      { role: "system", content: "Answer briefly." },
      { role: "user", content: ideographs(24_000, 2) },
      { role: "assistant", content: "好的。" },
      { role: "user", content: ideographs(24_000, 3) },
    ];
    let status = 0;
    let usage: { prompt_tokens: number } | undefined;
    const stall = await worstStall(async () => {
      const res = await call(completionsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", messages, store: false } });
      status = res.status;
      usage = ((await res.json()) as { usage: { prompt_tokens: number } }).usage;
    });
    expect(status).toBe(200);
    expect(usage?.prompt_tokens).toBeGreaterThan(48_000);
    expect(stall).toBeLessThan(300);
  }, 120_000);

  it("refuses system messages over their share of the window without cutting them on the event loop", async () => {
    // ~900 KB of system text (under the 1 MiB body limit): counted in slices, then refused as
    // too long before anything would cut it synchronously.
    const messages = [...Array.from({ length: 28 }, () => ({ role: "system", content: "a".repeat(32_000) })), { role: "user", content: "hi" }];
    let body: { error?: { code?: string } } = {};
    let status = 0;
    const stall = await worstStall(async () => {
      const res = await call(completionsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", messages, store: false } });
      status = res.status;
      body = (await res.json()) as typeof body;
    });
    expect(status).toBe(400);
    expect(body.error?.code).toBe("context_length_exceeded");
    expect(stall).toBeLessThan(300);
  }, 120_000);
});
