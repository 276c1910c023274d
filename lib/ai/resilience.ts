import { APICallError, RetryError } from "ai";
import { BREAKER_STATE_VALUE, metrics, providerLabel } from "@/lib/metrics";
import { log } from "@/lib/log";

/**
 * Building blocks for resilient model calls: what a failure means (classifyFailure), how long to
 * wait before the one retry layer tries again (planRetry / retryDelayMs), time limits on a stream
 * (timedStream) and a circuit breaker per provider (breakerFor). All pure or clock-injected.
 */

// ── Failures ─────────────────────────────────────────────────────────────────────────────────

export type FailureKind = "timeout" | "network" | "http" | "abort" | "other";
export type Failure = { retryable: boolean; status?: number; retryAfterMs?: number; kind: FailureKind };

export type TimeoutPhase = "first_token" | "idle" | "total";

export class ModelTimeoutError extends Error {
  override readonly name = "ModelTimeoutError";
  constructor(
    readonly phase: TimeoutPhase,
    readonly limitMs: number,
  ) {
    const what = { first_token: "No first token", idle: "No data", total: "The reply did not finish" }[phase];
    super(`${what} within ${limitMs} ms`);
  }
}

const NETWORK_FAILURE = /ECONNRESET|ECONNREFUSED|ENOTFOUND|EPIPE|EAI_AGAIN|UND_ERR|terminated|socket|fetch failed|other side closed/i;
const TIMEOUT = /TimeoutError|ETIMEDOUT|_TIMEOUT\b|timed out/i;

const isRetryableStatus = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;

/** The error, its causes, and what SDK RetryError wrappers hold, outermost first. */
function causeChain(error: unknown): unknown[] {
  const links: unknown[] = [];
  for (let e = error; e != null && links.length < 8; ) {
    links.push(e);
    e = RetryError.isInstance(e) ? e.lastError : typeof e === "object" ? (e as { cause?: unknown }).cause : undefined;
  }
  return links;
}

function describe(e: unknown): string {
  if (typeof e === "string") return e;
  if (typeof e !== "object" || e === null) return "";
  const { name, message, code } = e as { name?: unknown; message?: unknown; code?: unknown };
  return [name, message, code].filter((v) => typeof v === "string").join(" ");
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  return Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1]?.trim() || undefined;
}

/** `retry-after-ms` (OpenAI's), else `Retry-After` as seconds or an HTTP date. */
export function parseRetryAfter(headers: Record<string, string> | undefined, now = Date.now()): number | undefined {
  const ms = header(headers, "retry-after-ms");
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms));
  const value = header(headers, "retry-after");
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** What went wrong and whether another attempt could help. `now` resolves HTTP-date Retry-After. */
export function classifyFailure(error: unknown, now = Date.now()): Failure {
  const links = causeChain(error);
  // Our own limit first: the caller may abort the request with it as the reason.
  if (links.some((e) => e instanceof ModelTimeoutError)) return { retryable: true, kind: "timeout" };
  const api = links.find((e) => APICallError.isInstance(e));
  // A 2xx status means the response began and then broke ("failed to process successful
  // response"): what broke it is further down the cause chain.
  if (api?.statusCode !== undefined && api.statusCode >= 300) {
    const retryAfterMs = parseRetryAfter(api.responseHeaders, now);
    return {
      retryable: isRetryableStatus(api.statusCode),
      status: api.statusCode,
      kind: "http",
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  const text = links.map(describe);
  if (text.some((t) => /^(AbortError|ResponseAborted)\b/.test(t))) return { retryable: false, kind: "abort" };
  if (text.some((t) => TIMEOUT.test(t))) return { retryable: true, kind: "timeout" };
  if (api?.isRetryable || text.some((t) => NETWORK_FAILURE.test(t))) return { retryable: true, kind: "network" };
  return { retryable: false, kind: "other" };
}

// ── Retries ──────────────────────────────────────────────────────────────────────────────────

export const MAX_RETRIES = 2;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Wait before retry number `attempt + 1` (attempt 0 is the first retry). Without a server hint:
 * "equal jitter" — half of min(500 ms · 2^attempt, 8 s) plus a random share of the other half, so
 * retries spread out yet never come sooner than half the nominal delay. A server's Retry-After is
 * honoured as given; beyond 60 s it returns null: don't retry this provider, move to the next one.
 */
export function retryDelayMs(attempt: number, failure: Pick<Failure, "retryAfterMs">, random = Math.random): number | null {
  if (failure.retryAfterMs !== undefined) return failure.retryAfterMs > MAX_RETRY_AFTER_MS ? null : failure.retryAfterMs;
  const nominal = Math.min(BASE_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}

/** The whole retry rule: the delay before trying again, or null to stop (then fall back). */
export function planRetry(failure: Failure, attempt: number, opts: { firstTokenSent: boolean }, random = Math.random): number | null {
  // Once text reached the client a retry would repeat or contradict it.
  if (!failure.retryable || opts.firstTokenSent || attempt >= MAX_RETRIES) return null;
  return retryDelayMs(attempt, failure, random);
}

// ── Time limits ──────────────────────────────────────────────────────────────────────────────

export type StreamLimits = { ttftMs: number; idleMs: number; totalMs: number };

/**
 * Iterates `source`, throwing ModelTimeoutError when the first token (as `isFirstToken` judges) is
 * later than ttftMs, a wait for the next part after it exceeds idleMs, or the stream outlives totalMs.
 * A hung provider never settles its pending `next()`, so each wait races a timer; `onTimeout` runs
 * before the throw so the caller can abort the request. An aborted `signal` ends the wait with its reason.
 */
export async function* timedStream<T>(
  source: AsyncIterable<T>,
  limits: StreamLimits,
  options: { isFirstToken(part: T): boolean; signal?: AbortSignal; onTimeout(error: ModelTimeoutError): void },
): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  const startedAt = performance.now();
  const totalDeadline = startedAt + limits.totalMs;
  let sawFirstToken = false;
  let done = false;
  try {
    while (true) {
      options.signal?.throwIfAborted();
      const now = performance.now();
      const step: [TimeoutPhase, number, number] = sawFirstToken
        ? ["idle", limits.idleMs, now + limits.idleMs]
        : ["first_token", limits.ttftMs, startedAt + limits.ttftMs];
      const [phase, limitMs, deadline] = step[2] <= totalDeadline ? step : (["total", limits.totalMs, totalDeadline] as const);
      const next = await withDeadline(iterator.next(), deadline - now, options.signal, () => {
        const error = new ModelTimeoutError(phase, limitMs);
        options.onTimeout(error);
        return error;
      });
      if (next.done) {
        done = true;
        return;
      }
      sawFirstToken ||= options.isFirstToken(next.value);
      yield next.value;
    }
  } finally {
    // Not awaited: after a timeout the source may never answer its pending next().
    if (!done) void Promise.resolve(iterator.return?.()).catch(() => {});
  }
}

function withDeadline<R>(promise: Promise<R>, ms: number, signal: AbortSignal | undefined, expire: () => Error): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const settle = (finish: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      finish();
    };
    const onAbort = () => settle(() => reject(signal?.reason));
    // Detach before expiring: onTimeout may abort this very signal, and the timeout is the real story.
    const timer = setTimeout(() => settle(() => reject(expire())), Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}

// ── Circuit breaker ──────────────────────────────────────────────────────────────────────────

export type BreakerState = "closed" | "open" | "half_open";
export type BreakerOptions = Partial<{
  consecutiveFailures: number;
  windowMs: number;
  minCalls: number;
  failureRatio: number;
  coolDownMs: number;
  clock: () => number;
}>;
export type BreakerSnapshot = { state: BreakerState; consecutiveFailures: number; recentCalls: number; recentFailures: number; openedAt: number | null };

/**
 * Closed → open after N consecutive failures, or when ≥ failureRatio of the calls in the last
 * windowMs failed (with at least minCalls); open → half_open once coolDownMs has passed, letting
 * one trial call through; its success closes the breaker, its failure reopens it. Record only
 * failures that are the provider's fault — `classifyFailure(e).retryable` — not bad requests or
 * caller aborts. A trial that never reports back frees its slot after another cool-down.
 */
export class CircuitBreaker {
  private state: BreakerState = "closed";
  private consecutive = 0;
  private calls: Array<{ at: number; failed: boolean }> = [];
  private openedAt: number | null = null;
  private trialStartedAt: number | null = null;
  private readonly o: Required<BreakerOptions>;

  constructor(
    readonly provider: string,
    options: BreakerOptions = {},
  ) {
    this.o = { consecutiveFailures: 3, windowMs: 60_000, minCalls: 5, failureRatio: 0.5, coolDownMs: 30_000, clock: Date.now, ...options };
  }

  canRequest(now = this.o.clock()): boolean {
    if (this.state === "closed") return true;
    if (this.state === "open") {
      if (now - this.openedAt! < this.o.coolDownMs) return false;
      this.transition("half_open", "cool-down elapsed");
    } else if (this.trialStartedAt !== null && now - this.trialStartedAt < this.o.coolDownMs) {
      return false;
    }
    this.trialStartedAt = now;
    return true;
  }

  recordSuccess(now = this.o.clock()): void {
    if (this.state === "open") return;
    if (this.state === "half_open") return this.transition("closed", "trial call succeeded");
    this.consecutive = 0;
    this.remember(now, false);
  }

  recordFailure(now = this.o.clock()): void {
    if (this.state === "open") return;
    if (this.state === "half_open") return this.transition("open", "trial call failed", now);
    this.consecutive++;
    const { calls, failures } = this.remember(now, true);
    if (this.consecutive >= this.o.consecutiveFailures) {
      this.transition("open", `${this.consecutive} consecutive failures`, now);
    } else if (calls >= this.o.minCalls && failures / calls >= this.o.failureRatio) {
      this.transition("open", `${failures} of ${calls} calls failed in ${this.o.windowMs / 1_000} s`, now);
    }
  }

  snapshot(now = this.o.clock()): BreakerSnapshot {
    const { calls, failures } = this.remember(now);
    return { state: this.state, consecutiveFailures: this.consecutive, recentCalls: calls, recentFailures: failures, openedAt: this.openedAt };
  }

  /** Drops calls older than the window, adds this one if given, and counts what is left. */
  private remember(now: number, failed?: boolean) {
    this.calls = this.calls.filter((c) => now - c.at < this.o.windowMs);
    if (failed !== undefined) this.calls.push({ at: now, failed });
    return { calls: this.calls.length, failures: this.calls.filter((c) => c.failed).length };
  }

  private transition(to: BreakerState, reason: string, now?: number): void {
    log.warn({ provider: this.provider, from: this.state, to, reason }, "circuit breaker state change");
    metrics.breakerTransitions.inc({ provider: providerLabel(this.provider), state: to });
    metrics.breakerState.set({ provider: providerLabel(this.provider) }, BREAKER_STATE_VALUE[to]);
    this.state = to;
    this.trialStartedAt = null;
    if (to === "open") this.openedAt = now ?? this.o.clock();
    if (to === "closed") {
      this.openedAt = null;
      this.consecutive = 0;
      this.calls = [];
    }
  }
}

const breakers = new Map<string, CircuitBreaker>();

/** The process-wide breaker for a provider (`openai`, `groq`, …); options apply on first use only. */
export function breakerFor(provider: string, options?: BreakerOptions): CircuitBreaker {
  let breaker = breakers.get(provider);
  if (!breaker) {
    breakers.set(provider, (breaker = new CircuitBreaker(provider, options)));
    metrics.breakerState.set({ provider: providerLabel(provider) }, BREAKER_STATE_VALUE.closed);
  }
  return breaker;
}

/** Every provider's breaker state (tests and diagnostics; metrics are updated on each transition). */
export function breakerStates(): Record<string, BreakerSnapshot> {
  return Object.fromEntries([...breakers].map(([provider, breaker]) => [provider, breaker.snapshot()]));
}

export function resetBreakers(): void {
  breakers.clear();
}
