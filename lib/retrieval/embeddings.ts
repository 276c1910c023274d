import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { EmbeddingModelV3 } from "@ai-sdk/provider";
import { embed, embedMany } from "ai";
import { sql } from "drizzle-orm";
import { parseModelId } from "@/lib/ai/models";
import { countTextTokensAsync } from "@/lib/context/tokens";
import { arrayLiteral, getDb, rowsOf, type Db } from "@/lib/db/client";
import { env } from "@/lib/env";
import { aiTelemetry } from "@/lib/telemetry";
import { recordUsage } from "@/lib/usage/ledger";
import { log } from "@/lib/log";

/**
 * Optional dense retrieval. When EMBEDDING_MODEL is set and the database has pgvector, chunks are
 * embedded after ingestion and searches rank them by cosine distance too. Everything here fails
 * soft: a missing extension, a provider outage or a bad model id leaves lexical retrieval working.
 */

/** Texts per embedding request. */
const EMBEDDING_BATCH = 64;
/** Retries per request (the AI SDK backs off exponentially and honours Retry-After). */
const EMBEDDING_RETRIES = 2;
const QUERY_TIMEOUT_MS = 10_000;

/** `openai:` and `ollama:` ids, resolved like chat models (same keys and base URLs). */
export function resolveEmbeddingModel(id: string): EmbeddingModelV3 {
  const parsed = parseModelId(id);
  if (parsed?.provider === "openai") {
    return createOpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL }).embedding(parsed.name);
  }
  if (parsed?.provider === "ollama") {
    if (!env.OLLAMA_BASE_URL) throw new Error(`EMBEDDING_MODEL "${id}" needs OLLAMA_BASE_URL: no Ollama server is configured.`);
    return createOpenAICompatible({ name: "ollama", baseURL: env.OLLAMA_BASE_URL, apiKey: env.OLLAMA_API_KEY }).embeddingModel(parsed.name);
  }
  throw new Error(`EMBEDDING_MODEL "${id}" is not supported: use an openai: or ollama: embedding model.`);
}

/** USD per million input tokens of the embedding models we know; MODEL_OVERRIDES' input price wins. */
const EMBEDDING_PRICES: Record<string, number> = {
  "openai:text-embedding-3-small": 0.02,
  "openai:text-embedding-3-large": 0.13,
  "openai:text-embedding-ada-002": 0.1,
};

/** Who pays for an embedding call. */
export type BillTo = { userId: string; apiKeyId: string | null };

/** Embedding calls count toward usage and budgets like any other model call. Never throws. */
async function recordEmbeddingUsage(id: string, tokens: number | undefined, texts: string[], billTo: BillTo, documentId?: string): Promise<void> {
  // Providers that report no usage (some Ollama versions) are counted like chat models: OpenAI's
  // embedding models use cl100k; others get the calibrated estimate.
  const parsed = parseModelId(id);
  const estimated = tokens === undefined || tokens === 0;
  const family = parsed?.provider === "openai" ? "cl100k" : "estimate";
  let count = tokens ?? 0;
  if (estimated) for (const text of texts) count += await countTextTokensAsync(text, family);
  const price = env.MODEL_OVERRIDES[id]?.input_per_million ?? EMBEDDING_PRICES[id] ?? 0;
  try {
    await recordUsage(await getDb(), {
      ...billTo,
      kind: "embedding",
      provider: parsed?.provider ?? "unknown",
      model: id,
      promptTokens: count,
      completionTokens: 0,
      cachedTokens: 0,
      costUsd: Math.round(((count * price) / 1_000_000) * 1e8) / 1e8,
      estimated,
      documentId: documentId ?? null,
    });
  } catch (error) {
    log.error({ err: error }, "recording embedding usage failed");
  }
}

let resolved: { id: string; model: EmbeddingModelV3 | null } | undefined;

/** The configured model, or null (unset, or unusable: said once, not on every search). */
function configuredModel(): { id: string; model: EmbeddingModelV3 } | null {
  const id = env.EMBEDDING_MODEL;
  if (!id) return null;
  if (resolved?.id !== id) {
    try {
      resolved = { id, model: resolveEmbeddingModel(id) };
    } catch (error) {
      log.error({ err: error }, "embeddings unavailable: lexical retrieval only");
      resolved = { id, model: null };
    }
  }
  return resolved.model ? { id, model: resolved.model } : null;
}

// Per database handle (tests reopen it): whether the embeddings table exists.
const stores = new WeakMap<Db, Promise<boolean>>();
let warned = false;

async function createStore(db: Db): Promise<boolean> {
  try {
    await db.execute(sql`create extension if not exists vector`);
  } catch {
    // Another instance may have created it between our check and our create.
    const present = await db.execute(sql`select 1 from pg_extension where extname = 'vector'`).catch(() => ({ rows: [] }));
    if ((present as { rows: unknown[] }).rows.length === 0) {
      if (!warned) log.warn("pgvector not available: lexical retrieval only");
      warned = true;
      return false;
    }
  }
  // Created at run time, not by a migration: the extension is optional, the migrations are not.
  await db.execute(sql`
    create table if not exists document_chunk_embeddings (
      chunk_id uuid primary key references document_chunks(id) on delete cascade,
      document_id uuid not null references documents(id) on delete cascade,
      model text not null,
      embedding vector not null
    )`);
  await db.execute(sql`create index if not exists document_chunk_embeddings_document_idx on document_chunk_embeddings (document_id, model)`);
  return true;
}

/** Whether embeddings can be stored; creates the extension and table on first use. */
function embeddingStoreReady(db: Db): Promise<boolean> {
  let ready = stores.get(db);
  if (!ready) {
    ready = createStore(db).catch((error: unknown) => {
      log.error({ err: error }, "embedding store could not be created: lexical retrieval only");
      return false;
    });
    stores.set(db, ready);
  }
  return ready;
}

const vectorLiteral = (values: number[]) => `[${values.join(",")}]`;
/**
 * Embeds the document's chunks that have no embedding from the current model yet, in batches.
 * Never throws: a failure is logged and the document stays searchable lexically.
 */
export async function embedDocumentChunks({ documentId }: { documentId: string }): Promise<void> {
  const configured = configuredModel();
  if (!configured) return;
  try {
    const db = await getDb();
    if (!(await embeddingStoreReady(db))) return;
    const result = await db.execute(sql`
      select c.id, c.content, d.user_id from document_chunks c join documents d on d.id = c.document_id
      where c.document_id = ${documentId}
        and not exists (select 1 from document_chunk_embeddings e where e.chunk_id = c.id and e.model = ${configured.id})
      order by c.ord`);
    const chunks = rowsOf<{ id: string; content: string; user_id: string }>(result);
    for (let i = 0; i < chunks.length; i += EMBEDDING_BATCH) {
      const batch = chunks.slice(i, i + EMBEDDING_BATCH);
      const values = batch.map((c) => c.content);
      const { embeddings, usage } = await embedMany({
        model: configured.model,
        values,
        maxRetries: EMBEDDING_RETRIES,
        maxParallelCalls: 1,
        experimental_telemetry: aiTelemetry("retrieval.embed-chunks", { model: configured.id }),
      });
      await recordEmbeddingUsage(configured.id, usage.tokens, values, { userId: batch[0]!.user_id, apiKeyId: null }, documentId);
      const rows = JSON.stringify(batch.map((c, j) => ({ id: c.id, v: vectorLiteral(embeddings[j] ?? []) })));
      await db.execute(sql`
        insert into document_chunk_embeddings (chunk_id, document_id, model, embedding)
        select r.id, ${documentId}::uuid, ${configured.id}, r.v::vector from jsonb_to_recordset(${rows}::jsonb) as r(id uuid, v text)
        on conflict (chunk_id) do update set model = excluded.model, embedding = excluded.embedding`);
    }
  } catch (error) {
    log.error({ document_id: documentId, err: error }, "embedding a document failed: lexical retrieval only for it");
  }
}

/**
 * Chunks of the ready documents among `documentIds` nearest to the query, best first, scored by
 * cosine similarity; null when embeddings are off, unavailable or failing (the caller goes lexical).
 */
export async function rankByEmbedding(input: {
  documentIds: string[];
  query: string;
  limit: number;
  billTo?: BillTo;
}): Promise<Array<{ id: string; score: number }> | null> {
  const configured = configuredModel();
  if (!configured || input.documentIds.length === 0) return null;
  try {
    const db = await getDb();
    if (!(await embeddingStoreReady(db))) return null;
    const ids = arrayLiteral(input.documentIds);
    // No provider call for documents that have no vectors (yet).
    const any = await db.execute(sql`
      select 1 from document_chunk_embeddings e join documents d on d.id = e.document_id
      where e.document_id = any(${ids}::uuid[]) and e.model = ${configured.id} and d.status = 'ready' limit 1`);
    if (rowsOf(any).length === 0) return [];
    const { embedding, usage } = await embed({
      model: configured.model,
      value: input.query,
      maxRetries: 1,
      abortSignal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
      experimental_telemetry: aiTelemetry("retrieval.embed-query", { model: configured.id }),
    });
    if (input.billTo) await recordEmbeddingUsage(configured.id, usage.tokens, [input.query], input.billTo);
    const query = vectorLiteral(embedding);
    const result = await db.execute(sql`
      select e.chunk_id as id, (1 - (e.embedding <=> ${query}::vector))::float8 as score
      from document_chunk_embeddings e join documents d on d.id = e.document_id
      where e.document_id = any(${ids}::uuid[]) and e.model = ${configured.id} and d.status = 'ready'
      order by e.embedding <=> ${query}::vector, e.chunk_id
      limit ${input.limit}`);
    return rowsOf<{ id: string; score: number }>(result).map((r) => ({ id: r.id, score: Number(r.score) }));
  } catch (error) {
    log.error({ err: error }, "query embedding failed: lexical results only");
    return null;
  }
}
