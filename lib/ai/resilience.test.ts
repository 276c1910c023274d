import { APICallError, RetryError } from "ai";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { log } from "@/lib/log";
import {
  breakerFor,
  breakerStates,
  CircuitBreaker,
  classifyFailure,
  MAX_RETRIES,
  ModelTimeoutError,
  planRetry,
  resetBreakers,
  retryDelayMs,
  timedStream,
  type Failure,
} from "./resilience";

const httpError = (statusCode: number, responseHeaders?: Record<string, string>) =>
  new APICallError({ message: `HTTP ${statusCode}`, url: "https://api.example/v1", requestBodyValues: {}, statusCode, responseHeaders });

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("classifyFailure", () => {
  it("does not retry request errors the provider will keep refusing", () => {
    for (const status of [400, 401, 403, 404, 422]) {
      expect(classifyFailure(httpError(status))).toEqual({ retryable: false, status, kind: "http" });
    }
  });

  it("retries 408, 409, 429 and 5xx", () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504]) {
      expect(classifyFailure(httpError(status))).toEqual({ retryable: true, status, kind: "http" });
    }
  });

  it("reads retry-after-ms, Retry-After seconds and Retry-After HTTP dates", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(classifyFailure(httpError(429, { "retry-after-ms": "1500" }), now).retryAfterMs).toBe(1_500);
    // retry-after-ms is the more precise of the two when both are sent.
    expect(classifyFailure(httpError(429, { "retry-after-ms": "250", "retry-after": "3" }), now).retryAfterMs).toBe(250);
    expect(classifyFailure(httpError(503, { "retry-after": "7" }), now).retryAfterMs).toBe(7_000);
    expect(classifyFailure(httpError(503, { "Retry-After": "2.5" }), now).retryAfterMs).toBe(2_500);
    expect(classifyFailure(httpError(503, { "retry-after": "Wed, 01 Jan 2025 00:00:30 GMT" }), now).retryAfterMs).toBe(30_000);
    expect(classifyFailure(httpError(503, { "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }), now).retryAfterMs).toBe(0);
    expect(classifyFailure(httpError(503, { "retry-after": "soon" }), now)).not.toHaveProperty("retryAfterMs");
  });

  it("finds connection failures anywhere in the cause chain", () => {
    const reset = new Error("stream failed", { cause: new TypeError("fetch failed", { cause: withCode("read ECONNRESET", "ECONNRESET") }) });
    expect(classifyFailure(reset)).toEqual({ retryable: true, kind: "network" });
    const sdkWrapped = new APICallError({
      message: "Cannot connect to API: other side closed",
      url: "https://api.example/v1",
      requestBodyValues: {},
      cause: withCode("other side closed", "UND_ERR_SOCKET"),
      isRetryable: true,
    });
    expect(classifyFailure(sdkWrapped)).toEqual({ retryable: true, kind: "network" });
    expect(classifyFailure(new Error("x", { cause: withCode("getaddrinfo", "ENOTFOUND") })).kind).toBe("network");
    expect(classifyFailure(new TypeError("terminated")).kind).toBe("network");
    // A 200 whose body broke off: the SDK's error carries the 200, the reset is in its cause.
    const brokenBody = new APICallError({
      message: "Failed to process successful response",
      url: "https://api.example/v1",
      requestBodyValues: {},
      statusCode: 200,
      cause: new TypeError("terminated", { cause: withCode("other side closed", "UND_ERR_SOCKET") }),
    });
    expect(classifyFailure(brokenBody)).toEqual({ retryable: true, kind: "network" });
  });

  it("unwraps the SDK's RetryError to its last error", () => {
    const wrapped = new RetryError({ message: "gave up", reason: "maxRetriesExceeded", errors: [httpError(400), httpError(503)] });
    expect(classifyFailure(wrapped)).toEqual({ retryable: true, status: 503, kind: "http" });
  });

  it("treats our time limits and socket timeouts as retryable timeouts", () => {
    expect(classifyFailure(new ModelTimeoutError("first_token", 30_000))).toEqual({ retryable: true, kind: "timeout" });
    expect(classifyFailure(new Error("aborted", { cause: new ModelTimeoutError("idle", 5_000) })).kind).toBe("timeout");
    expect(classifyFailure(new DOMException("signal timed out", "TimeoutError"))).toEqual({ retryable: true, kind: "timeout" });
    expect(classifyFailure(withCode("connect", "UND_ERR_CONNECT_TIMEOUT")).kind).toBe("timeout");
  });

  it("never retries a caller's abort or an unknown error", () => {
    expect(classifyFailure(new DOMException("This operation was aborted", "AbortError"))).toEqual({ retryable: false, kind: "abort" });
    expect(classifyFailure(Object.assign(new Error("aborted"), { name: "AbortError" })).kind).toBe("abort");
    expect(classifyFailure(new Error("Unexpected token < in JSON"))).toEqual({ retryable: false, kind: "other" });
    expect(classifyFailure("boom")).toEqual({ retryable: false, kind: "other" });
    expect(classifyFailure(undefined)).toEqual({ retryable: false, kind: "other" });
  });
});

describe("retry timing", () => {
  const nominal = [500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000];

  it("doubles from 0.5 s to at most 8 s with equal jitter", () => {
    nominal.forEach((n, attempt) => {
      expect(retryDelayMs(attempt, {}, () => 0)).toBe(n / 2);
      expect(retryDelayMs(attempt, {}, () => 0.999_999)).toBe(n);
      for (let i = 0; i < 50; i++) {
        const delay = retryDelayMs(attempt, {})!;
        expect(delay).toBeGreaterThanOrEqual(n / 2);
        expect(delay).toBeLessThanOrEqual(n);
      }
    });
  });

  it("honours a server's wait up to 60 s and gives up on the provider beyond it", () => {
    expect(retryDelayMs(0, { retryAfterMs: 3_000 }, () => 0.9)).toBe(3_000);
    expect(retryDelayMs(1, { retryAfterMs: 0 })).toBe(0);
    expect(retryDelayMs(0, { retryAfterMs: 60_000 })).toBe(60_000);
    expect(retryDelayMs(0, { retryAfterMs: 60_001 })).toBeNull();
  });

  it("retries at most twice, only retryable failures, and never after the first token", () => {
    const retryable: Failure = { retryable: true, kind: "network" };
    expect(MAX_RETRIES).toBe(2);
    expect(planRetry(retryable, 0, { firstTokenSent: false }, () => 0)).toBe(250);
    expect(planRetry(retryable, 1, { firstTokenSent: false }, () => 0)).toBe(500);
    expect(planRetry(retryable, 2, { firstTokenSent: false })).toBeNull();
    expect(planRetry(retryable, 0, { firstTokenSent: true })).toBeNull();
    expect(planRetry({ retryable: false, status: 400, kind: "http" }, 0, { firstTokenSent: false })).toBeNull();
    expect(planRetry({ retryable: false, kind: "abort" }, 0, { firstTokenSent: false })).toBeNull();
    expect(planRetry({ retryable: true, status: 429, retryAfterMs: 120_000, kind: "http" }, 0, { firstTokenSent: false })).toBeNull();
    expect(planRetry({ retryable: true, status: 429, retryAfterMs: 2_000, kind: "http" }, 1, { firstTokenSent: false })).toBe(2_000);
  });
});

/** Emits each value after its delay (ms since the previous one), then ends or hangs for ever. */
function scripted(steps: Array<[delayMs: number, value: string]>, { hang = true } = {}) {
  let index = 0;
  const state = { returned: false };
  const iterable: AsyncIterable<string> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const step = steps[index++];
        if (!step) return hang ? new Promise<never>(() => {}) : Promise.resolve({ done: true as const, value: undefined });
        return new Promise((resolve) => setTimeout(() => resolve({ done: false, value: step[1] }), step[0]));
      },
      return: () => {
        state.returned = true;
        return Promise.resolve({ done: true as const, value: undefined });
      },
    }),
  };
  return { iterable, state };
}

describe("timedStream", () => {
  const limits = { ttftMs: 1_000, idleMs: 500, totalMs: 5_000 };
  const isFirstToken = (part: string) => part.startsWith("text");

  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function consume(source: AsyncIterable<string>, options: { signal?: AbortSignal; onTimeout?: (e: ModelTimeoutError) => void } = {}) {
    const parts: string[] = [];
    const onTimeout = vi.fn(options.onTimeout ?? (() => {}));
    let outcome: unknown = "pending";
    void (async () => {
      for await (const part of timedStream(source, limits, { isFirstToken, signal: options.signal, onTimeout })) parts.push(part);
    })().then(
      () => (outcome = "done"),
      (error: unknown) => (outcome = error),
    );
    return { parts, onTimeout, outcome: () => outcome };
  }

  it("passes every part through and leaves no timer behind", async () => {
    const { iterable } = scripted([[10, "start"], [200, "text a"], [400, "text b"], [400, "finish"]], { hang: false });
    const run = consume(iterable);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(run.outcome()).toBe("done");
    expect(run.parts).toEqual(["start", "text a", "text b", "finish"]);
    expect(run.onTimeout).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ends a stream whose first token is late, even if other parts arrive", async () => {
    const { iterable, state } = scripted([[100, "start"], [800, "metadata"]]);
    const run = consume(iterable);
    await vi.advanceTimersByTimeAsync(999);
    expect(run.outcome()).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(run.outcome()).toBeInstanceOf(ModelTimeoutError);
    expect(run.outcome()).toMatchObject({ phase: "first_token", limitMs: 1_000 });
    expect(run.onTimeout).toHaveBeenCalledExactlyOnceWith(run.outcome());
    expect(run.parts).toEqual(["start", "metadata"]);
    expect(state.returned).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ends a stream that goes quiet after its first token", async () => {
    const { iterable } = scripted([[900, "text a"], [450, "text b"]]);
    const run = consume(iterable);
    await vi.advanceTimersByTimeAsync(1_350 + 499);
    expect(run.outcome()).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(run.outcome()).toMatchObject({ phase: "idle", limitMs: 500 });
    expect(run.parts).toEqual(["text a", "text b"]);
    expect(run.onTimeout).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ends a stream that keeps talking past the total limit", async () => {
    const { iterable } = scripted(Array.from({ length: 20 }, (_, i): [number, string] => [400, `text ${i}`]));
    const run = consume(iterable);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(run.outcome()).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(run.outcome()).toMatchObject({ phase: "total", limitMs: 5_000 });
    expect(run.parts).toHaveLength(12);
    // The one timer left is the source's own, delivering a part nobody waits for any more.
    await vi.advanceTimersByTimeAsync(400);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reports the timeout even when onTimeout aborts the signal it was given", async () => {
    const controller = new AbortController();
    const run = consume(scripted([]).iterable, { signal: controller.signal, onTimeout: (e) => controller.abort(e) });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run.outcome()).toMatchObject({ phase: "first_token" });
    expect(controller.signal.aborted).toBe(true);
  });

  it("stops waiting when the caller aborts, without calling onTimeout", async () => {
    const controller = new AbortController();
    const run = consume(scripted([[100, "text a"]]).iterable, { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(200);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(run.outcome()).toMatchObject({ name: "AbortError" });
    expect(classifyFailure(run.outcome()).kind).toBe("abort");
    expect(run.onTimeout).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not start on an already aborted signal", async () => {
    const run = consume(scripted([[10, "text a"]]).iterable, { signal: AbortSignal.abort() });
    await vi.advanceTimersByTimeAsync(100);
    expect(run.outcome()).toMatchObject({ name: "AbortError" });
    expect(run.parts).toEqual([]);
  });

  it("releases the source when the consumer stops early", async () => {
    const { iterable, state } = scripted([[10, "text a"], [10, "text b"]]);
    const done = (async () => {
      for await (const part of timedStream(iterable, limits, { isFirstToken, onTimeout: () => {} })) if (part) break;
    })();
    await vi.advanceTimersByTimeAsync(20);
    await done;
    expect(state.returned).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("CircuitBreaker", () => {
  let warn: MockInstance;
  beforeEach(() => {
    warn = vi.spyOn(log, "warn").mockImplementation(() => {});
    resetBreakers();
  });
  afterEach(() => warn.mockRestore());

  it("opens after 3 consecutive failures and logs the transition", () => {
    const breaker = new CircuitBreaker("openai");
    breaker.recordFailure(0);
    breaker.recordFailure(1);
    expect(breaker.canRequest(2)).toBe(true);
    breaker.recordFailure(2);
    expect(breaker.snapshot(3)).toMatchObject({ state: "open", consecutiveFailures: 3, openedAt: 2 });
    expect(breaker.canRequest(3)).toBe(false);
    expect(warn).toHaveBeenCalledExactlyOnceWith({ provider: "openai", from: "closed", to: "open", reason: "3 consecutive failures" }, "circuit breaker state change");
  });

  it("a success resets the consecutive count", () => {
    const breaker = new CircuitBreaker("openai", { minCalls: 100 });
    for (const [t, ok] of [[0, false], [1, false], [2, true], [3, false], [4, false]] as const) {
      if (ok) breaker.recordSuccess(t);
      else breaker.recordFailure(t);
    }
    expect(breaker.snapshot(5).state).toBe("closed");
  });

  it("opens when at least half of at least 5 calls in 60 s failed", () => {
    const breaker = new CircuitBreaker("groq");
    breaker.recordSuccess(0);
    breaker.recordFailure(1);
    breaker.recordSuccess(2);
    breaker.recordFailure(3);
    // 2 of 4 is 50 %, but 4 calls are too few to judge.
    expect(breaker.snapshot(4)).toMatchObject({ state: "closed", recentCalls: 4, recentFailures: 2 });
    breaker.recordFailure(4);
    expect(breaker.snapshot(5)).toMatchObject({ state: "open", consecutiveFailures: 2 });
    expect(warn).toHaveBeenCalledWith({ provider: "groq", from: "closed", to: "open", reason: "3 of 5 calls failed in 60 s" }, "circuit breaker state change");
  });

  it("needs the minimum number of calls before the ratio rule applies", () => {
    // Consecutive rule out of the way, so only the ratio rule is being tested.
    const breaker = new CircuitBreaker("groq", { consecutiveFailures: 100 });
    for (let t = 0; t < 4; t++) breaker.recordFailure(t);
    expect(breaker.snapshot(4)).toMatchObject({ state: "closed", recentCalls: 4, recentFailures: 4 });
    breaker.recordFailure(4);
    expect(breaker.snapshot(5).state).toBe("open");
  });

  it("forgets calls older than the window", () => {
    const breaker = new CircuitBreaker("groq", { consecutiveFailures: 100 });
    breaker.recordFailure(0);
    breaker.recordFailure(1);
    breaker.recordFailure(2);
    for (let t = 60_000; t < 60_004; t++) breaker.recordSuccess(t);
    breaker.recordFailure(60_004);
    // Only 1 of the 5 calls still in the window failed.
    expect(breaker.snapshot(60_005)).toMatchObject({ state: "closed", recentCalls: 5, recentFailures: 1 });
  });

  it("lets exactly one trial through after the cool-down and closes on its success", () => {
    const breaker = new CircuitBreaker("openai", { coolDownMs: 30_000 });
    for (let t = 0; t < 3; t++) breaker.recordFailure(t);
    expect(breaker.canRequest(30_001)).toBe(false);
    expect(breaker.canRequest(30_002)).toBe(true);
    expect(breaker.snapshot(30_002).state).toBe("half_open");
    expect(breaker.canRequest(30_003)).toBe(false);
    breaker.recordSuccess(30_500);
    expect(breaker.snapshot(30_500)).toMatchObject({ state: "closed", consecutiveFailures: 0, recentCalls: 0, openedAt: null });
    expect(breaker.canRequest(30_501)).toBe(true);
    expect(warn.mock.calls).toEqual([
      [{ provider: "openai", from: "closed", to: "open", reason: "3 consecutive failures" }, "circuit breaker state change"],
      [{ provider: "openai", from: "open", to: "half_open", reason: "cool-down elapsed" }, "circuit breaker state change"],
      [{ provider: "openai", from: "half_open", to: "closed", reason: "trial call succeeded" }, "circuit breaker state change"],
    ]);
  });

  it("reopens when the trial fails, restarting the cool-down", () => {
    const breaker = new CircuitBreaker("openai", { coolDownMs: 1_000 });
    for (let t = 0; t < 3; t++) breaker.recordFailure(t);
    expect(breaker.canRequest(1_002)).toBe(true);
    breaker.recordFailure(1_500);
    expect(breaker.snapshot(1_500)).toMatchObject({ state: "open", openedAt: 1_500 });
    expect(breaker.canRequest(2_499)).toBe(false);
    expect(breaker.canRequest(2_500)).toBe(true);
    expect(warn).toHaveBeenCalledWith({ provider: "openai", from: "half_open", to: "open", reason: "trial call failed" }, "circuit breaker state change");
  });

  it("frees a trial slot that never reported back after another cool-down", () => {
    const breaker = new CircuitBreaker("openai", { coolDownMs: 1_000 });
    for (let t = 0; t < 3; t++) breaker.recordFailure(t);
    expect(breaker.canRequest(1_002)).toBe(true);
    expect(breaker.canRequest(2_001)).toBe(false);
    expect(breaker.canRequest(2_002)).toBe(true);
  });

  it("keeps one breaker per provider and reports them all for metrics", () => {
    let now = 10_000;
    const openai = breakerFor("openai", { clock: () => now });
    expect(breakerFor("openai")).toBe(openai);
    breakerFor("groq").recordSuccess();
    for (let i = 0; i < 3; i++) openai.recordFailure();
    now += 1;
    expect(breakerStates()).toEqual({
      openai: { state: "open", consecutiveFailures: 3, recentCalls: 3, recentFailures: 3, openedAt: 10_000 },
      groq: { state: "closed", consecutiveFailures: 0, recentCalls: 1, recentFailures: 0, openedAt: null },
    });
    resetBreakers();
    expect(breakerStates()).toEqual({});
  });
});
