import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { z } from "zod";
import { pruneIdempotencyKeys } from "@/lib/api/idempotency";
import { claimDocument, getDocumentStates, requeueForReindex, type ReindexScope } from "@/lib/db/queries/document-queue";
import { findUserAccount } from "@/lib/db/queries/users";
import { ingestDocument } from "@/lib/retrieval/queue";
import { getStreamLog } from "@/lib/streams/log";
import { invalid, print, userArg, type Command } from "./args";

export const maintenanceUsage = `  document:reindex (--document <id> | --user <email|id> | --all)
                                      re-reads ready and failed documents from their stored bytes, here and now
  prune [--dry-run]                   deletes idempotency records past 24 h and stream logs past STREAM_LOG_TTL_SECONDS`;

const reindexArgs = z
  .object({ document: z.string().optional(), user: userArg.optional(), all: z.boolean().optional() })
  .refine(
    (v) => [v.document !== undefined, v.user !== undefined, v.all === true].filter(Boolean).length === 1,
    "give exactly one of --document <id>, --user <email|id> or --all",
  );

/** How long to wait for a document a running app instance claimed first (its stale-claim limit). */
const WAIT_FOR_OTHERS_MS = 10 * 60 * 1000;

async function waitForOthers(ids: string[]): Promise<void> {
  const deadline = Date.now() + WAIT_FOR_OTHERS_MS;
  while (ids.length > 0 && Date.now() < deadline) {
    const states = await getDocumentStates({ ids });
    if (states.every((s) => s.status === "ready" || s.status === "failed")) return;
    await sleep(500);
  }
}

async function reindex(args: string[]): Promise<number> {
  const options = { document: { type: "string" }, user: { type: "string" }, all: { type: "boolean" } } as const;
  const parsed = reindexArgs.safeParse(parseArgs({ args, options, strict: true }).values);
  if (!parsed.success) return invalid(parsed.error);
  const { document, user } = parsed.data;
  const scope: ReindexScope =
    document !== undefined ? { documentId: document } : user !== undefined ? { userId: (await findUserAccount({ user })).id } : { all: true };

  const { queued, skipped } = await requeueForReindex(scope);
  // A worker id of its own, so no app instance mistakes this process's claims for its own.
  const workerId = `cli:${os.hostname()}:${process.pid}`;
  const claimedElsewhere: string[] = [];
  for (const id of queued) {
    // Claims are atomic: a running instance may take a queued document first, and then indexes it.
    const claimed = await claimDocument({ id, workerId });
    if (claimed) await ingestDocument(claimed);
    else claimedElsewhere.push(id);
  }
  await waitForOthers(claimedElsewhere);

  const states = await getDocumentStates({ ids: queued });
  print({
    reindexed: states.map((s) => ({
      id: s.id,
      user_id: s.userId,
      filename: s.filename,
      status: s.status,
      pages: s.pages,
      chunks: s.chunkCount,
      error: s.error?.code ?? null,
      by: claimedElsewhere.includes(s.id) ? "app instance" : "cli",
    })),
    skipped: skipped.map((s) => ({ id: s.id, status: s.status, reason: "already queued or being indexed" })),
  });
  return 0;
}

async function prune(args: string[]): Promise<number> {
  const dryRun = parseArgs({ args, options: { "dry-run": { type: "boolean" } }, strict: true }).values["dry-run"] ?? false;
  const idempotencyKeys = await pruneIdempotencyKeys({ dryRun });
  const streamLog = await getStreamLog();
  const streamLogs = await streamLog.prune({ dryRun });
  // Redis expires its stream logs by itself: nothing to prune there.
  print({ dry_run: dryRun, idempotency_keys: idempotencyKeys, stream_logs: streamLogs, stream_log_store: streamLog.kind });
  return 0;
}

export const maintenanceCommands: Record<string, Command> = { "document:reindex": reindex, prune };
