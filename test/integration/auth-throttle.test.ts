import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";
import { signIn } from "../support/next-auth";

/**
 * Brute force and sign-up floods, through the real next-auth and sign-up handlers: attempts are
 * throttled per account and per client address (429 with Retry-After, before the password is
 * looked at), and sign-up answers alike whether or not the email is taken.
 */

let h: Harness;
let auth: typeof import("@/app/api/auth/[...nextauth]/route");
let signUpRoute: typeof import("@/app/api/auth/sign-up/route");
let rateLimit: typeof import("@/lib/api/rate-limit");
const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const PASSWORD = "correct horse battery";

beforeAll(async () => {
  h = await startHarness({ RATE_LIMIT_SIGN_IN_PER_ACCOUNT: "5", RATE_LIMIT_SIGN_IN_PER_ADDRESS: "8", RATE_LIMIT_SIGN_UP_PER_ADDRESS: "3" });
  auth = await import("@/app/api/auth/[...nextauth]/route");
  signUpRoute = await import("@/app/api/auth/sign-up/route");
  rateLimit = await import("@/lib/api/rate-limit");
});
afterAll(() => h.close());

// Every call speaks from a connection address of its own (the last X-Forwarded-For entry, which
// the server appends), behind a client-written entry that must not matter.
let connections = 0;
const address = () => {
  connections++;
  return `198.51.100.7, 203.0.${Math.floor(connections / 250)}.${(connections % 250) + 1}`;
};
const from = (xff: string) => ({ "x-forwarded-for": xff });

async function newUser() {
  const { user } = await h.signUp();
  return user;
}

type Problem = { code: string; status: number; url?: string; email?: string };

describe("sign-in throttle", () => {
  it("refuses the right password after too many wrong ones for the account, from any address", async () => {
    const user = await newUser();
    const attacker = from(address());
    for (let i = 0; i < 5; i++) {
      const wrong = await signIn(auth, { email: user.email, password: `guess ${i}`, headers: attacker });
      expect(wrong.response.status).toBe(401);
      expect(wrong.cookie).toBeNull();
    }
    const right = await signIn(auth, { email: user.email.toUpperCase(), password: PASSWORD, headers: attacker });
    expect(right.response.status).toBe(429);
    expect(right.cookie).toBeNull();
    expect(Number(right.response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(right.response.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await right.response.json()) as Problem;
    expect(problem.code).toBe("rate_limited");
    // next-auth's client reads the error from `url`; the form shows "Too many sign-in attempts".
    expect(new URL(problem.url ?? "").searchParams.get("error")).toBe("TooManyAttempts");

    // The account's bucket, not the address's: the owner elsewhere waits too…
    const elsewhere = await signIn(auth, { email: user.email, password: PASSWORD, headers: from(address()) });
    expect(elsewhere.response.status).toBe(429);
    // …while another account from the attacker's address is still served.
    const other = await newUser();
    const ok = await signIn(auth, { email: other.email, password: PASSWORD, headers: attacker });
    expect(ok.response.status).toBe(200);
    expect(ok.cookie).not.toBeNull();
  });

  it("limits one client address across many accounts, and counts unknown emails alike", async () => {
    const user = await newUser();
    const sprayer = from(address());
    for (let i = 0; i < 8; i++) {
      const attempt = await signIn(auth, { email: `nobody-${randomUUID()}@example.test`, password: "password1", headers: sprayer });
      expect(attempt.response.status).toBe(401);
    }
    const refused = await signIn(auth, { email: user.email, password: PASSWORD, headers: sprayer });
    expect(refused.response.status).toBe(429);
    // The same person from another address signs in.
    expect((await signIn(auth, { email: user.email, password: PASSWORD, headers: from(address()) })).response.status).toBe(200);
  });

  it("keys on the connection's address, not on entries a client put in front of it", async () => {
    const user = await newUser();
    const peer = address().split(", ")[1]!;
    // With TRUST_PROXY=0 only the last entry (the one the server appends) counts.
    for (let i = 0; i < 8; i++) {
      const spoofed = from(`10.${i}.0.1, ${peer}`);
      await signIn(auth, { email: `nobody-${randomUUID()}@example.test`, password: "password1", headers: spoofed });
    }
    expect((await signIn(auth, { email: user.email, password: PASSWORD, headers: from(`10.99.0.1, ${peer}`) })).response.status).toBe(429);
  });

  it("is shared by every instance through Redis", async () => {
    const a = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    const b = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await a.connect();
    await b.connect();
    const prefix = `bgpt:test:${randomUUID()}:`;
    const instances = [new rateLimit.RedisRateLimitStore(a, prefix), new rateLimit.RedisRateLimitStore(b, prefix)];
    try {
      const user = await newUser();
      const statuses: number[] = [];
      // Alternate instances, as a load balancer would: five wrong passwords spread over both.
      for (let i = 0; i < 6; i++) {
        rateLimit.setRateLimitStore(instances[i % 2]);
        const password = i < 5 ? `guess ${i}` : PASSWORD;
        statuses.push((await signIn(auth, { email: user.email, password, headers: from(address()) })).response.status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      expect((await a.keys(`${prefix}sign-in:account:*`)).length).toBe(1);
      // The store holds a digest of the email, never the email itself.
      expect((await a.keys(`${prefix}*`)).some((key) => key.includes(user.email))).toBe(false);
    } finally {
      rateLimit.setRateLimitStore(undefined);
      a.disconnect();
      b.disconnect();
    }
  });
});

describe("sign-up", () => {
  it("answers a taken email exactly as a free one; only signing in tells them apart", async () => {
    const email = `taken-${randomUUID()}@example.test`;
    const first = await call(signUpRoute.POST, { body: { email, password: PASSWORD, name: "First" }, headers: from(address()) });
    const again = await call(signUpRoute.POST, { body: { email: email.toUpperCase(), password: "another password", name: "Second" }, headers: from(address()) });
    const free = await call(signUpRoute.POST, { body: { email: `free-${randomUUID()}@example.test`, password: PASSWORD }, headers: from(address()) });
    for (const response of [first, again, free]) {
      expect(response.status).toBe(202);
      expect(response.headers.get("content-type")).toBe(first.headers.get("content-type"));
    }
    const bodies = [(await first.json()) as Problem, (await again.json()) as Problem, (await free.json()) as Problem];
    expect(bodies.map((b) => Object.keys(b).sort())).toEqual([["email"], ["email"], ["email"]]);
    expect(bodies[1]).toEqual(bodies[0]);

    // The second sign-up changed nothing: its password does not sign in, the first one does.
    expect((await signIn(auth, { email, password: "another password", headers: from(address()) })).response.status).toBe(401);
    expect((await signIn(auth, { email, password: PASSWORD, headers: from(address()) })).response.status).toBe(200);
  });

  it("refuses a burst from one address with 429 and Retry-After", async () => {
    const flooder = from(address());
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await call(signUpRoute.POST, { body: { email: `burst-${randomUUID()}@example.test`, password: PASSWORD }, headers: flooder });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await last!.json()) as Problem).code).toBe("rate_limited");
    // Someone else is not held up by it.
    expect((await call(signUpRoute.POST, { body: { email: `calm-${randomUUID()}@example.test`, password: PASSWORD }, headers: from(address()) })).status).toBe(202);
  });
});
