import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * No document can hold up another user's: the queue has more than one extraction slot, claims the
 * oldest document of the user with the fewest in flight, and bounds each document's time by its
 * size. Slowness is made deterministic by wrapping the extraction step: a text file starting with
 * `SLOW <ms>` waits that long first (the real extraction still runs), one starting with `TIMEOUT`
 * gets a 1 ms budget for the real child process.
 */

const waits = vi.hoisted(() => ({ timeouts: new Map<number, number>() }));

vi.mock("@/lib/retrieval/ingest", async (importOriginal) => {
  const real = await importOriginal<typeof import("@/lib/retrieval/ingest")>();
  const extractAndChunk: typeof real.extractAndChunk = async (job, timeoutMs, onProgress) => {
    const head = Buffer.from(job.bytes.subarray(0, 32)).toString("utf8");
    waits.timeouts.set(job.bytes.length, timeoutMs);
    const slow = /^SLOW (\d+)/.exec(head);
    if (slow) await new Promise((resolve) => setTimeout(resolve, Number(slow[1])));
    return real.extractAndChunk(job, head.startsWith("TIMEOUT") ? 1 : timeoutMs, onProgress);
  };
  return { ...real, extractAndChunk };
});

let h: Harness;
let document: typeof import("@/app/api/v1/documents/[id]/route");
let documents: typeof import("@/app/api/v1/documents/route");
let queue: typeof import("@/lib/retrieval/queue");
let docs: typeof import("@/lib/db/queries/documents");

beforeAll(async () => {
  h = await startHarness({ INGEST_CONCURRENCY: "2", INGEST_TIMEOUT_BASE_MS: "20000", INGEST_TIMEOUT_PER_MB_MS: "5000" });
  document = await import("@/app/api/v1/documents/[id]/route");
  documents = await import("@/app/api/v1/documents/route");
  queue = await import("@/lib/retrieval/queue");
  docs = await import("@/lib/db/queries/documents");
});
afterAll(() => h.close());

type DocumentBody = { id: string; status: string; chunk_count: number; error: { code: string; detail?: string } | null };

async function status(cookie: string, id: string): Promise<DocumentBody> {
  return (await (await call(document.GET, { cookie, params: { id } })).json()) as DocumentBody;
}

async function settled(cookie: string, id: string, timeoutMs = 25_000): Promise<DocumentBody> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const body = await status(cookie, id);
    if (body.status === "ready" || body.status === "failed") return body;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`document ${id} did not settle in ${timeoutMs} ms`);
}

async function queued(userId: string, name: string, text: string): Promise<string> {
  const { document: doc } = await docs.createDocument({ userId, filename: name, mimeType: "text/plain", bytes: Buffer.from(text) });
  return doc.id;
}

describe("ingestion queue fairness", () => {
  it("indexes another user's 44-byte file while a slow document holds a slot", async () => {
    const a = await h.signUp("Alice");
    const b = await h.signUp("Bob");
    const slow = await queued(a.user.id, "slow.txt", `SLOW 20000\nA long report about ${"tides ".repeat(2000)}`);
    void queue.kickIngestion();
    const tiny = await queued(b.user.id, "tiny.txt", "The lighthouse keeper logs the tide at dawn.");
    void queue.kickIngestion();
    // The order is what matters, not a time: the tiny file is ready while the slow one still holds its slot.
    expect((await settled(b.cookie, tiny, 18_000)).status).toBe("ready");
    expect((await status(a.cookie, slow)).status).toBe("processing");
    expect((await settled(a.cookie, slow, 40_000)).status).toBe("ready");
  }, 90_000);

  it("claims the oldest document of the user with the fewest in flight, so a long queue does not starve a newcomer", async () => {
    const a = await h.signUp("Alice");
    const b = await h.signUp("Bob");
    const mine = [];
    for (let i = 0; i < 4; i++) mine.push(await queued(a.user.id, `batch-${i}.txt`, `SLOW 2000\nBatch ${i} about harbours and ferries.`));
    const theirs = await queued(b.user.id, "late.txt", "A short note about the ferry timetable.");
    void queue.kickIngestion();
    expect((await settled(b.cookie, theirs)).status).toBe("ready");
    // FIFO would have indexed all four of Alice's first (two slots: 2 + 2, then Bob).
    const states = await Promise.all(mine.map(async (id) => (await status(a.cookie, id)).status));
    expect(states.filter((s) => s === "ready").length).toBeLessThanOrEqual(2);
    for (const id of mine) expect((await settled(a.cookie, id)).status).toBe("ready");
  });
});

describe("time bound and pathological text", () => {
  it("bounds each document by base + per-MB time and fails one past it with ingestion_timeout", async () => {
    const { cookie, user } = await h.signUp();
    const small = "A few words about tides.";
    const large = `Harbour ${"ledger entries for the ferry crossing. ".repeat(60_000)}`;
    for (const id of [await queued(user.id, "small.txt", small), await queued(user.id, "large.txt", large)]) {
      void queue.kickIngestion();
      expect((await settled(cookie, id)).status).toBe("ready");
    }
    expect(waits.timeouts.get(Buffer.byteLength(small))).toBe(20_000 + Math.ceil((5_000 * Buffer.byteLength(small)) / 1048576));
    expect(waits.timeouts.get(Buffer.byteLength(large))).toBe(20_000 + Math.ceil((5_000 * Buffer.byteLength(large)) / 1048576));

    // Big enough that reading it takes far longer than its 1 ms budget (a few words can be read
    // by a warm child before the timer fires).
    const stuck = await queued(user.id, "stuck.txt", `TIMEOUT: this one never finishes in time. ${large}`);
    void queue.kickIngestion();
    const done = await settled(cookie, stuck);
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("ingestion_timeout");
  });

  it("indexes a 600 KB file that is one long run of characters in seconds, in chunks within the token size", async () => {
    const { cookie } = await h.signUp();
    // One pre-token of 600,000 characters: BPE on it whole is quadratic (minutes).
    const text = `Intro paragraph about the archive.\n\n${"a".repeat(600_000)}`;
    const form = new FormData();
    form.set("file", new File([text], "run.txt", { type: "text/plain" }));
    const res = await documents.POST(new Request("http://localhost/api/v1/documents", { method: "POST", body: form, headers: { cookie } }), { params: Promise.resolve({}) });
    expect(res.status).toBe(202);
    const done = await settled(cookie, ((await res.json()) as DocumentBody).id, 30_000);
    expect(done.status).toBe("ready");
    const { getDb } = await import("@/lib/db/client");
    const { documentChunks } = await import("@/lib/db/schema");
    const { env } = await import("@/lib/env");
    const { eq, max } = await import("drizzle-orm");
    const [row] = await (await getDb()).select({ most: max(documentChunks.tokenCount) }).from(documentChunks).where(eq(documentChunks.documentId, done.id));
    expect(row?.most).toBeLessThanOrEqual(env.CHUNK_TOKENS);
    expect(done.chunk_count).toBeGreaterThan(10);
  }, 40_000);
});
