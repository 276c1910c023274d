import { describe, expect, it } from "vitest";
import { makeFlateBombPdf, makePdf } from "@/test/support/make-pdf";
import { ExtractorPool } from "./extractor";

/**
 * The extraction child process itself: its memory limit holds even when the inflate check is
 * off (pdf.js meets the bomb), its deadline kills it, and a crash is reported as one.
 */

const job = (bytes: Buffer, caps: Partial<{ maxInflatedBytes: number; maxPageChars: number; maxTextChars: number }> = {}) => ({
  op: "ingest",
  bytes: new Uint8Array(bytes),
  mimeType: "application/pdf",
  maxPages: 500,
  chunkTokens: 400,
  overlap: 0.15,
  maxInflatedBytes: 128 * 1024 * 1024,
  maxPageChars: 100_000,
  maxTextChars: 32_000_000,
  ...caps,
});

const book = makePdf(Array.from({ length: 300 }, (_, i) => `Page ${i}. ${"The keeper logs the tides and the lamp. ".repeat(30)}`));

describe("extraction child process", () => {
  // RLIMIT_DATA and /proc are Linux's (the image and CI); elsewhere only the V8 heap flag applies.
  it.skipIf(process.platform !== "linux")("caps the child's memory: a bomb that reaches pdf.js ends document_too_complex, the parent's RSS stays flat", async () => {
    const pool = new ExtractorPool("test-memory", 1, 256);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    // The inflate check is effectively off: only the process limit stands between pdf.js and 1 GiB.
    const result = await pool.run(job(makeFlateBombPdf(1024 * 1024 * 1024), { maxInflatedBytes: 8 * 1024 * 1024 * 1024 }), 25_000);
    clearInterval(sampler);
    expect(result).toMatchObject({ ok: false, code: "document_too_complex" });
    expect((peak - baseline) / 1048576).toBeLessThan(200);
    // A fresh child serves the next job.
    expect(await pool.run(job(makePdf(["Still working."])), 25_000)).toMatchObject({ ok: true, pages: 1 });
  }, 30_000);

  it("kills a child past its deadline (ingestion_timeout) and starts a new one for the next job", async () => {
    const pool = new ExtractorPool("test-deadline", 1, 512);
    expect(await pool.run(job(book), 50)).toMatchObject({ ok: false, code: "ingestion_timeout" });
    expect(await pool.run(job(makePdf(["Back again."])), 25_000)).toMatchObject({ ok: true, pages: 1 });
  }, 30_000);

  it("reports a child killed from outside as a crash, which the queue may retry", async () => {
    const pool = new ExtractorPool("test-crash", 1, 512);
    const running = pool.run(job(book), 25_000);
    let pid: number | undefined;
    while (!(pid = pool.busyPids()[0])) await new Promise((resolve) => setTimeout(resolve, 5));
    process.kill(pid, "SIGKILL");
    expect(await running).toMatchObject({ ok: false, code: "ingestion_failed", crashed: true });
  }, 30_000);
});
