"use client";

import { useEffect, useRef, useState } from "react";
import { ApiError } from "@/components/api-client";
import { deleteDocument, fetchDocument, updateConversation, uploadDocument } from "./api";
import { documentStatusText, isIndexing, type ConversationMode, type DocumentResource } from "./types";

/** A file on its way up: becomes a document row once the server has accepted it. */
export type PendingUpload = { key: string; filename: string; fraction: number; error: string | null };

const POLL_MS = 700;
let uploadSeq = 0;

type Options = {
  initialDocuments: DocumentResource[];
  initialMode: ConversationMode;
  /** The conversation's id, creating the conversation first when there is none yet. */
  ensureConversation: (mode: ConversationMode) => Promise<string>;
  getConversationId: () => string | null;
};

const message = (error: unknown, fallback: string) => (error instanceof Error && error.message ? error.message : fallback);

/** The documents attached to one conversation, its answer mode, and the uploads feeding it. */
export function useConversationDocuments({ initialDocuments, initialMode, ensureConversation, getConversationId }: Options) {
  const [documents, setDocuments] = useState(initialDocuments);
  const [uploads, setUploads] = useState<PendingUpload[]>([]);
  const [mode, setModeState] = useState(initialMode);
  // Bumped on every local mode change: a slower, older response must not undo a newer choice.
  const modeVersion = useRef(0);
  const [error, setError] = useState<string | null>(null);
  // Deleted here: a library list fetched earlier must not offer them again.
  const [deletedIds, setDeletedIds] = useState<string[]>([]);
  // Read by a polite live region: finished and failed documents, not every percent.
  const [announcement, setAnnouncement] = useState("");

  const indexingKey = documents
    .filter(isIndexing)
    .map((d) => d.id)
    .join(",");

  useEffect(() => {
    if (!indexingKey) return;
    const ids = indexingKey.split(",");
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      const results = await Promise.all(
        ids.map(async (id) => {
          try {
            return { id, document: await fetchDocument(id), gone: false };
          } catch (e) {
            // Deleted elsewhere (another tab, the API): it is no longer attached.
            return { id, document: null, gone: e instanceof ApiError && e.status === 404 };
          }
        }),
      );
      if (cancelled) return;
      const gone = new Set(results.filter((r) => r.gone).map((r) => r.id));
      const fresh = new Map(results.flatMap((r) => (r.document ? [[r.id, r.document] as const] : [])));
      const finished = [...fresh.values()].filter((d) => !isIndexing(d));
      if (finished.length > 0) setAnnouncement(finished.map((d) => `${d.filename}: ${documentStatusText(d)}`).join(". "));
      setDocuments((previous) => previous.filter((d) => !gone.has(d.id)).map((d) => fresh.get(d.id) ?? d));
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    timer = setTimeout(() => void poll(), POLL_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [indexingKey]);

  const upsert = (document: DocumentResource) =>
    setDocuments((previous) =>
      previous.some((d) => d.id === document.id) ? previous.map((d) => (d.id === document.id ? document : d)) : [...previous, document],
    );

  async function uploadOne(file: File, key: string, conversation: Promise<string>) {
    const patchUpload = (change: Partial<PendingUpload>) => setUploads((previous) => previous.map((u) => (u.key === key ? { ...u, ...change } : u)));
    try {
      const conversationId = await conversation;
      const document = await uploadDocument({ file, conversationId, onProgress: (fraction) => patchUpload({ fraction }) });
      setUploads((previous) => previous.filter((u) => u.key !== key));
      upsert(document);
      // Uploading into a conversation switches it to grounded on the server.
      modeVersion.current += 1;
      setModeState("grounded");
      if (document.status === "failed") setAnnouncement(`${document.filename}: ${documentStatusText(document)}`);
    } catch (e) {
      const detail = message(e, "the upload failed.");
      patchUpload({ error: detail });
      setAnnouncement(`${file.name}: Failed: ${detail}`);
    }
  }

  function addFiles(files: File[]) {
    if (files.length === 0) return;
    setError(null);
    const rows = files.map((file) => ({ file, key: `upload-${++uploadSeq}` }));
    setUploads((previous) => [...previous, ...rows.map(({ file, key }) => ({ key, filename: file.name, fraction: 0, error: null }))]);
    const created = getConversationId() === null;
    // A chat started by an upload is created grounded, whether or not the upload then succeeds.
    const version = modeVersion.current;
    const conversation = ensureConversation("grounded").then((id) => {
      if (created && version === modeVersion.current) setModeState("grounded");
      return id;
    });
    for (const { file, key } of rows) void uploadOne(file, key, conversation);
  }

  function dismissUpload(key: string) {
    setUploads((previous) => previous.filter((u) => u.key !== key));
  }

  /** PATCHes the attached set (optimistically shown already); `undo` puts the row back as it was. */
  async function saveAttached(ids: string[], undo: () => void, patchMode?: ConversationMode) {
    const previousMode = mode;
    const version = patchMode ? ++modeVersion.current : modeVersion.current;
    setError(null);
    if (patchMode) setModeState(patchMode);
    try {
      const id = getConversationId() ?? (await ensureConversation(patchMode ?? mode));
      await updateConversation(id, { document_ids: ids, ...(patchMode ? { mode: patchMode } : {}) });
    } catch (e) {
      undo();
      if (patchMode && version === modeVersion.current) setModeState(previousMode);
      setError(message(e, "Could not update the attached documents."));
    }
  }

  async function detach(document: DocumentResource) {
    const without = (previous: DocumentResource[]) => previous.filter((d) => d.id !== document.id);
    setDocuments(without);
    await saveAttached(without(documents).map((d) => d.id), () => upsert(document));
  }

  /** Attaching from the library means "answer from these": the conversation becomes grounded. */
  async function attachExisting(document: DocumentResource) {
    upsert(document);
    const ids = [...documents.filter((d) => d.id !== document.id).map((d) => d.id), document.id];
    await saveAttached(ids, () => setDocuments((previous) => previous.filter((d) => d.id !== document.id)), mode === "open" ? "grounded" : undefined);
  }

  /** Deletes the document everywhere (library included), not just from this conversation. */
  async function remove(document: DocumentResource) {
    setError(null);
    try {
      await deleteDocument(document.id);
      setDocuments((previous) => previous.filter((d) => d.id !== document.id));
      setDeletedIds((previous) => [...previous, document.id]);
      setAnnouncement(`${document.filename} deleted.`);
    } catch (e) {
      setError(message(e, "Could not delete the document."));
    }
  }

  async function setMode(next: ConversationMode) {
    if (next === mode) return;
    const previous = mode;
    const version = ++modeVersion.current;
    setError(null);
    setModeState(next);
    const id = getConversationId();
    // A new chat keeps the choice until its first message or upload creates the conversation.
    if (!id) return;
    try {
      await updateConversation(id, { mode: next });
    } catch (e) {
      if (version === modeVersion.current) setModeState(previous);
      setError(message(e, "Could not change the answer mode."));
    }
  }

  return {
    documents,
    deletedIds,
    uploads,
    mode,
    error,
    announcement,
    addFiles,
    dismissUpload,
    detach,
    attachExisting,
    remove,
    setMode,
    setError,
  };
}

export type DocumentsController = ReturnType<typeof useConversationDocuments>;
