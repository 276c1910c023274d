import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documents as table } from "@/lib/db/schema";
import { call, startHarness, type Harness } from "../support/harness";
import { makeFlateBombPdf, makePdf, makeTextFloodPdf } from "../support/make-pdf";

/**
 * Hostile documents cannot exhaust the server: a PDF that inflates 1 MB → 1 GiB is refused at
 * upload and fails ingestion with `document_too_complex` while the server's memory stays flat and
 * it keeps answering; too much text per page fails the same way; and a document whose extraction
 * process keeps dying is retried a bounded number of times, then failed for good.
 */

let h: Harness;
let documents: typeof import("@/app/api/v1/documents/route");
let document: typeof import("@/app/api/v1/documents/[id]/route");
let health: typeof import("@/app/api/health/route");
let queue: typeof import("@/lib/retrieval/queue");
let bomb: Buffer;

const MAX_ATTEMPTS = 3;

beforeAll(async () => {
  h = await startHarness({ INGEST_MAX_ATTEMPTS: String(MAX_ATTEMPTS) });
  documents = await import("@/app/api/v1/documents/route");
  document = await import("@/app/api/v1/documents/[id]/route");
  health = await import("@/app/api/health/route");
  queue = await import("@/lib/retrieval/queue");
  // 1 GiB of zeros behind ~1 MB of Flate: the bomb.
  bomb = makeFlateBombPdf(1024 * 1024 * 1024);
});
afterAll(() => h.close());

type DocumentBody = { id: string; status: string; error: { code: string; detail?: string } | null };

function upload(cookie: string, name: string, bytes: Buffer) {
  const form = new FormData();
  form.set("file", new File([new Uint8Array(bytes)], name, { type: "application/pdf" }));
  return documents.POST(new Request("http://localhost/api/v1/documents", { method: "POST", body: form, headers: { cookie } }), { params: Promise.resolve({}) });
}

async function settled(cookie: string, id: string, timeoutMs = 25_000): Promise<DocumentBody> {
  void queue.kickIngestion();
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const body = (await (await call(document.GET, { cookie, params: { id } })).json()) as DocumentBody;
    if (body.status === "ready" || body.status === "failed") return body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`document ${id} did not settle`);
}

/**
 * Runs `work` while sampling this process's RSS and probing GET /api/health; returns the RSS
 * growth over the baseline and the slowest probe.
 */
async function watched<T>(work: () => Promise<T>): Promise<{ result: T; rssGrowthMb: number; slowestProbeMs: number; probes: number }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  let slowestProbeMs = 0;
  let probes = 0;
  let done = false;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const prober = (async () => {
    while (!done) {
      const started = performance.now();
      const res = await call(health.GET, { path: "/api/health" });
      expect(res.status).toBe(200);
      slowestProbeMs = Math.max(slowestProbeMs, performance.now() - started);
      probes++;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  try {
    const result = await work();
    return { result, rssGrowthMb: (peak - baseline) / 1024 / 1024, slowestProbeMs, probes };
  } finally {
    done = true;
    clearInterval(sampler);
    await prober;
  }
}

describe("decompression bombs and text floods", () => {
  it("refuses a 1 MB → 1 GiB PDF at upload with 422 document_too_complex, memory flat, server answering", async () => {
    const { cookie } = await h.signUp();
    const { result: res, rssGrowthMb, slowestProbeMs, probes } = await watched(() => upload(cookie, "bomb.pdf", bomb));
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(((await res.json()) as { code: string }).code).toBe("document_too_complex");
    expect(rssGrowthMb).toBeLessThan(200);
    expect(probes).toBeGreaterThan(0);
    expect(slowestProbeMs).toBeLessThan(2_000);
    // Nothing was stored.
    const list = (await (await call(documents.GET, { cookie })).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
  });

  it("fails the same bomb in background ingestion (had the upload check been skipped) without the server's memory growing", async () => {
    const { cookie, user } = await h.signUp();
    const { createDocument } = await import("@/lib/db/queries/documents");
    // Straight into the queue, as a file the quick check timed out on would be.
    const { document: doc } = await createDocument({ userId: user.id, filename: "bomb.pdf", mimeType: "application/pdf", bytes: bomb });
    const { result: done, rssGrowthMb, slowestProbeMs, probes } = await watched(() => settled(cookie, doc.id));
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("document_too_complex");
    expect(rssGrowthMb).toBeLessThan(200);
    expect(probes).toBeGreaterThan(0);
    expect(slowestProbeMs).toBeLessThan(2_000);
  });

  it("fails a PDF whose pages hold far more text than a page can, with document_too_complex", async () => {
    const { cookie } = await h.signUp();
    const flood = makeTextFloodPdf(2, 1_000_000);
    expect(flood.length).toBeLessThan(100_000);
    const res = await upload(cookie, "flood.pdf", flood);
    expect(res.status).toBe(202);
    const done = await settled(cookie, ((await res.json()) as DocumentBody).id);
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("document_too_complex");
    expect(done.error?.detail).toMatch(/characters of text/);
  });
});

describe("attempt limit", () => {
  it("retries a document whose extraction process is killed mid-way, at most INGEST_MAX_ATTEMPTS times, then fails it for good", async () => {
    const { cookie, user } = await h.signUp();
    const { createDocument } = await import("@/lib/db/queries/documents");
    const { busyExtractorPids } = await import("@/lib/retrieval/ingest");
    // Big enough that its extraction is still running when the test kills it.
    const pdf = makePdf(Array.from({ length: 400 }, (_, i) => `Page ${i}. ${"The keeper logs the tides, the lamp and the weather. ".repeat(20)}`));
    const { document: doc } = await createDocument({ userId: user.id, filename: "fragile.pdf", mimeType: "application/pdf", bytes: pdf });
    const killed = new Set<number>();
    void queue.kickIngestion();
    const until = Date.now() + 25_000;
    let last: DocumentBody | undefined;
    while (Date.now() < until) {
      // Play the kernel's OOM killer (or a segfault): SIGKILL the child reading it.
      for (const pid of busyExtractorPids()) {
        if (killed.has(pid)) continue;
        killed.add(pid);
        process.kill(pid, "SIGKILL");
      }
      last = (await (await call(document.GET, { cookie, params: { id: doc.id } })).json()) as DocumentBody;
      if (last.status === "ready" || last.status === "failed") break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(last?.status).toBe("failed");
    expect(last?.error?.code).toBe("ingestion_attempts_exceeded");
    expect(killed.size).toBe(MAX_ATTEMPTS);
    // Failed for good: the sweep does not pick it up again.
    await queue.sweepIngestion();
    await queue.kickIngestion();
    expect(((await (await call(document.GET, { cookie, params: { id: doc.id } })).json()) as DocumentBody).status).toBe("failed");
  });

  it("fails a document for good at restart when the process died on it INGEST_MAX_ATTEMPTS times, and requeues one with attempts left", async () => {
    const { user } = await h.signUp();
    const [{ createDocument }, { requeueDocuments }, { getDb }, { env }] = await Promise.all([
      import("@/lib/db/queries/documents"),
      import("@/lib/db/queries/document-queue"),
      import("@/lib/db/client"),
      import("@/lib/env"),
    ]);
    const db = await getDb();
    const make = async (name: string, attempts: number) => {
      const { document: doc } = await createDocument({ userId: user.id, filename: name, mimeType: "text/plain", bytes: Buffer.from(`${name} text`) });
      // What a process that died mid-extraction leaves behind: processing, under its worker id.
      await db.update(table).set({ status: "processing", workerId: env.instanceId, attempts }).where(eq(table.id, doc.id));
      return doc.id;
    };
    const exhausted = await make("killer.txt", MAX_ATTEMPTS);
    const retried = await make("unlucky.txt", MAX_ATTEMPTS - 1);
    const outcome = await requeueDocuments(db, { workerId: env.instanceId, maxAttempts: MAX_ATTEMPTS });
    expect(outcome.failed).toEqual([exhausted]);
    expect(outcome.requeued).toEqual([retried]);
    const [row] = await db.select().from(table).where(eq(table.id, exhausted));
    expect(row).toMatchObject({ status: "failed", workerId: null, error: { code: "ingestion_attempts_exceeded" } });
  });
});
