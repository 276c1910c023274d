/** How a model's tokens are counted (see tokens.ts). Dependency-free so lib/env.ts can validate it. */
export const TOKENIZER_FAMILIES = ["o200k", "cl100k", "llama3", "estimate"] as const;

export type TokenizerFamily = (typeof TOKENIZER_FAMILIES)[number];
