import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * The image's base is an exact release (or a digest), never a moving tag like `node:20-…`, so a
 * rebuild cannot swap the runtime under the app; and the data volume starts private (issue 17).
 */

const dockerfile = readFileSync("Dockerfile", "utf8");
const args = Object.fromEntries([...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!.replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? name));

const PINNED = /^[\w./-]+:\d+\.\d+\.\d+(-[\w.-]+)?(@sha256:[0-9a-f]{64})?$|^[\w./-]+(:[\w.-]+)?@sha256:[0-9a-f]{64}$/;

describe("Dockerfile", () => {
  it("builds every stage on an exact base image version or digest", () => {
    expect(bases.length).toBeGreaterThanOrEqual(3);
    for (const base of bases) expect(base, base).toMatch(PINNED);
  });

  it("runs the same Node major the project supports", () => {
    const engines = (JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string } }).engines.node;
    const [, major, minor] = /^>=(\d+)\.(\d+)/.exec(engines) ?? [];
    const [, imageMajor, imageMinor] = /^node:(\d+)\.(\d+)\./.exec(args.NODE_IMAGE ?? "") ?? [];
    expect(imageMajor).toBe(major);
    expect(Number(imageMinor)).toBeGreaterThanOrEqual(Number(minor));
  });

  it("creates the data volume private to the app user", () => {
    expect(dockerfile).toMatch(/mkdir -p \/data && chown app:app \/data && chmod 700 \/data/);
  });
});
