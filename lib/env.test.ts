import { describe, expect, it } from "vitest";
import { parseEnv } from "./env";

describe("parseEnv", () => {
  it("gives a zero-config start: PGlite under ./data and no providers", () => {
    const env = parseEnv({});
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.DATA_DIR).toBe("./data");
    // No Ollama unless configured: ollama:* models are not usable by default.
    expect(env.OLLAMA_BASE_URL).toBeUndefined();
    expect(env.ALLOWED_MODELS).toEqual([]);
    expect(env.MAX_MESSAGE_CHARS).toBe(32_000);
    expect(env.ALLOW_SIGNUP).toBe(true);
    expect(env.instanceId).toMatch(/:3000$/);
  });

  it("treats empty strings as unset and coerces numbers and booleans", () => {
    const env = parseEnv({ DATABASE_URL: "", MAX_MESSAGE_CHARS: "100", ALLOW_SIGNUP: "false", PORT: "8080" });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.MAX_MESSAGE_CHARS).toBe(100);
    expect(env.ALLOW_SIGNUP).toBe(false);
    expect(env.instanceId).toMatch(/:8080$/);
  });

  it("fails with a message naming each bad variable", () => {
    expect(() => parseEnv({ DATABASE_URL: "mysql://x", CHAT_MODEL: "gpt-4o" })).toThrow(/DATABASE_URL: .*postgres[\s\S]*CHAT_MODEL: .*provider:model/);
    expect(() => parseEnv({ MAX_MESSAGE_CHARS: "lots" })).toThrow(/MAX_MESSAGE_CHARS/);
    expect(() => parseEnv({ OPENAI_API: "soap" })).toThrow(/OPENAI_API/);
  });

  it("prefers AUTH_SECRET and accepts NEXTAUTH_SECRET", () => {
    expect(parseEnv({ NEXTAUTH_SECRET: "n".repeat(32) }).authSecret).toBe("n".repeat(32));
    expect(parseEnv({ AUTH_SECRET: "a".repeat(32), NEXTAUTH_SECRET: "n".repeat(32) }).authSecret).toBe("a".repeat(32));
    expect(() => parseEnv({ AUTH_SECRET: "short" })).toThrow(/AUTH_SECRET/);
  });

  it("reads CORS_ORIGINS as a list of origins, and refuses anything else", () => {
    expect(parseEnv({}).CORS_ORIGINS).toEqual([]);
    expect(parseEnv({ CORS_ORIGINS: " https://App.example.com/ , http://localhost:5173" }).CORS_ORIGINS).toEqual([
      "https://app.example.com",
      "http://localhost:5173",
    ]);
    for (const bad of ["https://app.example.com/path", "app.example.com", "https://user:pw@app.example.com", "*"]) {
      expect(() => parseEnv({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
  });
});
