import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * Per-user storage quotas (STORAGE_QUOTA_BYTES, MAX_DOCUMENTS_PER_USER): an upload past either is
 * refused with 413 `quota_exceeded` and its `limit` and `used`; parallel uploads cannot overshoot
 * together; the same file uploaded again counts once; deleting frees the space; GET /usage shows it.
 */

const QUOTA_BYTES = 10_000;
const MAX_DOCUMENTS = 8;

let h: Harness;
let documents: typeof import("@/app/api/v1/documents/route");
let document: typeof import("@/app/api/v1/documents/[id]/route");
let usage: typeof import("@/app/api/v1/usage/route");

beforeAll(async () => {
  h = await startHarness({ STORAGE_QUOTA_BYTES: String(QUOTA_BYTES), MAX_DOCUMENTS_PER_USER: String(MAX_DOCUMENTS) });
  documents = await import("@/app/api/v1/documents/route");
  document = await import("@/app/api/v1/documents/[id]/route");
  usage = await import("@/app/api/v1/usage/route");
});
afterAll(() => h.close());

type Problem = { code: string; status: number; limit?: number; used?: number; quota?: string };
type Storage = { bytes_used: number; bytes_limit: number | null; documents: number; documents_limit: number | null };

/** A distinct text file of exactly `size` bytes. */
const file = (tag: string, size: number) => `${tag} `.padEnd(size, "x");

function upload(cookie: string, name: string, text: string) {
  const form = new FormData();
  form.set("file", new File([text], name, { type: "text/plain" }));
  return documents.POST(new Request("http://localhost/api/v1/documents", { method: "POST", body: form, headers: { cookie } }), { params: Promise.resolve({}) });
}

async function storage(cookie: string): Promise<Storage> {
  const res = await call(usage.GET, { cookie, path: "/api/v1/usage" });
  expect(res.status).toBe(200);
  return ((await res.json()) as { storage: Storage }).storage;
}

describe("storage quotas", () => {
  it("refuses an upload past the byte quota with 413 quota_exceeded, counts a re-upload once, and frees space on delete", async () => {
    const { cookie } = await h.signUp();
    const first = await upload(cookie, "a.txt", file("a", 6_000));
    expect(first.status).toBe(202);
    const firstId = ((await first.json()) as { id: string }).id;

    const over = await upload(cookie, "b.txt", file("b", 5_000));
    expect(over.status).toBe(413);
    expect(over.headers.get("content-type")).toContain("application/problem+json");
    expect((await over.json()) as Problem).toMatchObject({ code: "quota_exceeded", status: 413, quota: "storage_bytes", limit: QUOTA_BYTES, used: 6_000 });

    // The same bytes again are the same document: no new space needed, and no refusal.
    const again = await upload(cookie, "a-copy.txt", file("a", 6_000));
    expect(again.status).toBe(202);
    expect(((await again.json()) as { id: string }).id).toBe(firstId);
    expect(await storage(cookie)).toEqual({ bytes_used: 6_000, bytes_limit: QUOTA_BYTES, documents: 1, documents_limit: MAX_DOCUMENTS });

    expect((await call(document.DELETE, { cookie, method: "DELETE", params: { id: firstId } })).status).toBe(204);
    expect((await storage(cookie)).bytes_used).toBe(0);
    expect((await upload(cookie, "b.txt", file("b", 5_000))).status).toBe(202);
  });

  it("refuses the document past MAX_DOCUMENTS_PER_USER", async () => {
    const { cookie } = await h.signUp();
    for (let i = 0; i < MAX_DOCUMENTS; i++) expect((await upload(cookie, `n${i}.txt`, `note ${i}`)).status).toBe(202);
    const res = await upload(cookie, "one-more.txt", "one more note");
    expect(res.status).toBe(413);
    expect((await res.json()) as Problem).toMatchObject({ code: "quota_exceeded", quota: "documents", limit: MAX_DOCUMENTS, used: MAX_DOCUMENTS });
    expect((await storage(cookie)).documents).toBe(MAX_DOCUMENTS);
  });

  it("does not overshoot under 10 parallel uploads", async () => {
    const { cookie } = await h.signUp();
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => upload(cookie, `p${i}.txt`, file(`parallel-${i}`, 1_500))));
    const statuses = responses.map((r) => r.status).sort();
    // 6 × 1,500 = 9,000 fits in 10,000; a 7th would not.
    expect(statuses).toEqual([...Array(6).fill(202), ...Array(4).fill(413)]);
    const used = await storage(cookie);
    expect(used.bytes_used).toBe(9_000);
    expect(used.documents).toBe(6);
  });

  it("reports storage per user in GET /usage, unaffected by other users", async () => {
    const mine = await h.signUp();
    const theirs = await h.signUp();
    expect(await storage(mine.cookie)).toEqual({ bytes_used: 0, bytes_limit: QUOTA_BYTES, documents: 0, documents_limit: MAX_DOCUMENTS });
    expect((await upload(theirs.cookie, "t.txt", file("t", 4_000))).status).toBe(202);
    expect((await upload(mine.cookie, "m.txt", file("m", 1_234))).status).toBe(202);
    expect(await storage(mine.cookie)).toEqual({ bytes_used: 1_234, bytes_limit: QUOTA_BYTES, documents: 1, documents_limit: MAX_DOCUMENTS });
  });
});
