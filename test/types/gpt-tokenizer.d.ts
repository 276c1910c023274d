// gpt-tokenizer 4 ships no type declarations. The app counts through lib/context/bpe-count.mjs;
// tests use gpt-tokenizer's own count as the reference it must equal.
declare module "gpt-tokenizer/encoding/o200k_base" {
  export function countTokens(text: string, options?: { disallowedSpecial?: Set<string> }): number;
}
declare module "gpt-tokenizer/encoding/cl100k_base" {
  export function countTokens(text: string, options?: { disallowedSpecial?: Set<string> }): number;
}
