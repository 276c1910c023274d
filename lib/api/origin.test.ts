import { describe, expect, it } from "vitest";
import { appOrigin, assertSameOrigin } from "./origin";

const post = (url: string, headers: Record<string, string>) => new Request(url, { method: "POST", headers });

describe("the app's origin", () => {
  it("is NEXTAUTH_URL's when set, whatever the request's headers say", () => {
    const request = post("http://0.0.0.0:3000/api/v1/conversations", { host: "evil.example", "x-forwarded-host": "evil.example" });
    expect(appOrigin(request, "https://chat.example.com/some/path")).toBe("https://chat.example.com");
  });

  it("is otherwise the addressed host: X-Forwarded-Host/Proto behind a proxy, then Host, then the URL", () => {
    // Next.js builds request.url from the address it listens on, not from Host.
    const url = "http://0.0.0.0:3000/x";
    expect(appOrigin(post(url, { host: "chat.example:8080" }), undefined)).toBe("http://chat.example:8080");
    expect(appOrigin(post(url, { host: "10.0.0.5:3000", "x-forwarded-host": "chat.example, proxy.internal", "x-forwarded-proto": "https" }), undefined)).toBe("https://chat.example");
    expect(appOrigin(post(url, {}), undefined)).toBe("http://0.0.0.0:3000");
  });
});

describe("assertSameOrigin", () => {
  const app = "https://chat.example.com";
  it("refuses another origin, a foreign Sec-Fetch-Site and Origin: null, on state-changing methods only", () => {
    const foreign: Array<Record<string, string>> = [{ origin: "https://chat.example.com:8443" }, { origin: "http://chat.example.com" }, { origin: "null" }, { "sec-fetch-site": "same-site" }, { "sec-fetch-site": "cross-site" }];
    for (const headers of foreign) {
      expect(() => assertSameOrigin(post(`${app}/api/v1/documents`, headers), app), JSON.stringify(headers)).toThrow(/came from/);
    }
    // With NEXTAUTH_URL set, an Origin that only matches the Host header is still another origin.
    expect(() => assertSameOrigin(post(`${app}/x`, { origin: "http://localhost:3000", host: "localhost:3000" }), app)).toThrow(/came from/);
    expect(() => assertSameOrigin(new Request(`${app}/x`, { headers: { origin: "https://evil.example" } }), app)).not.toThrow();
  });

  it("lets the app's own requests through, and requests with neither header (not a browser)", () => {
    const own: Array<Record<string, string>> = [{ origin: app }, { origin: `${app}:443` }, { "sec-fetch-site": "same-origin" }, { "sec-fetch-site": "none" }, {}];
    for (const headers of own) {
      expect(() => assertSameOrigin(post(`${app}/x`, headers), app), JSON.stringify(headers)).not.toThrow();
    }
  });
});
