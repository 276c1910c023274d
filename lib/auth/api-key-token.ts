import { createHash, randomBytes } from "node:crypto";

export const API_KEY_PREFIX = "bgpt_";
const KEY_SHAPE = /^bgpt_[A-Za-z0-9_-]{43}$/;

/** A new key: `bgpt_` + 256 random bits (base64url). Only its hash is stored. */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { key, prefix: key.slice(0, 12), hash: hashApiKey(key) };
}

/** SHA-256 suffices: keys carry 256 bits of entropy, so there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function looksLikeApiKey(value: string): boolean {
  return KEY_SHAPE.test(value);
}
