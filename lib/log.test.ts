import { afterEach, describe, expect, it, vi } from "vitest";

/** The logger's redaction, built under each setting of LOG_MESSAGE_CONTENT. */
async function loggedWith(flag: string, fields: Record<string, unknown>): Promise<string> {
  vi.resetModules();
  vi.stubEnv("LOG_MESSAGE_CONTENT", flag);
  vi.stubEnv("LOG_LEVEL", "info");
  const { createLogger } = await import("@/lib/log");
  const lines: string[] = [];
  createLogger({ write: (line: string) => void lines.push(line) }).info(fields, "test line");
  return lines.join("");
}

afterEach(() => vi.unstubAllEnvs());

describe("log redaction", () => {
  it("censors message text unless LOG_MESSAGE_CONTENT is on, and secrets always", async () => {
    const fields = { content: "MSG-TEXT-51a", request: { text: "REQ-TEXT-8c0" }, password: "PW-77d", headers: { authorization: "Bearer bgpt_x1" } };
    const off = await loggedWith("false", fields);
    expect(off).toContain('"test line"');
    for (const value of ["MSG-TEXT-51a", "REQ-TEXT-8c0", "PW-77d", "bgpt_x1"]) expect(off).not.toContain(value);

    const on = await loggedWith("true", fields);
    expect(on).toContain("MSG-TEXT-51a");
    expect(on).toContain("REQ-TEXT-8c0");
    expect(on).not.toContain("PW-77d");
    expect(on).not.toContain("bgpt_x1");
  });

  it("drops request and response bodies from logged errors", async () => {
    const error = Object.assign(new Error("provider said no"), { requestBodyValues: { messages: [{ content: "PROMPT-3f1" }] }, responseBody: "BODY-9e2" });
    const line = await loggedWith("false", { err: new Error("outer", { cause: error }) });
    expect(line).toContain("provider said no");
    expect(line).not.toContain("PROMPT-3f1");
    expect(line).not.toContain("BODY-9e2");
  });

  it("keeps a failed query's SQL but not its bound values (message text, emails), at every level", async () => {
    const { DrizzleQueryError } = await import("drizzle-orm/errors");
    const cause = Object.assign(new Error("simulated database failure"), { query: "insert into messages (content) values ($1)", params: ["CONTENT-51c"] });
    const error = new DrizzleQueryError("insert into messages (content, email) values ($1, $2)", ["CONTENT-51c\n    at not-a-frame", "ada-8d@example.test"], cause);
    const line = await loggedWith("false", { err: error });
    expect(line).toContain("insert into messages (content, email) values ($1, $2)");
    expect(line).toContain("simulated database failure");
    expect(line).toContain("params: [redacted]");
    expect(line).not.toContain("CONTENT-51c");
    expect(line).not.toContain("ada-8d@example.test");
    // The stack keeps its frames.
    expect(JSON.parse(line).err.stack).toMatch(/\n\s+at /);
  });
});
