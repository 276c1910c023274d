"use client";

import { DocumentRow, UploadRow } from "./document-row";
import { LibraryPicker } from "./library-picker";
import { ModeSwitch } from "./mode-switch";
import type { DocumentsController } from "./use-conversation-documents";

/** The conversation's documents: upload progress, status, open/detach/delete, library, mode. */
export function DocumentsPanel({ id, open, controller }: { id: string; open: boolean; controller: DocumentsController }) {
  const { documents, uploads, mode, error } = controller;
  const empty = documents.length === 0 && uploads.length === 0;

  function confirmDelete(document: (typeof documents)[number]) {
    if (!window.confirm(`Delete "${document.filename}"? It is removed from your library and from every conversation.`)) return;
    void controller.remove(document);
  }

  return (
    <section id={id} aria-label="Documents" hidden={!open} className="max-h-[45dvh] overflow-y-auto border-b border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900/50">
      <div className="mx-auto max-w-3xl space-y-3 px-4 py-3">
        <div className="flex flex-wrap items-start justify-between gap-3">
          <ModeSwitch mode={mode} onChange={(next) => void controller.setMode(next)} />
          <LibraryPicker hiddenIds={[...documents.map((d) => d.id), ...controller.deletedIds]} onAttach={(d) => void controller.attachExisting(d)} />
        </div>
        {error ? (
          <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-xs text-red-700 dark:bg-red-950 dark:text-red-300">
            {error}
          </p>
        ) : null}
        {empty ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            No documents attached. Use <span className="font-medium">Attach</span> or drop PDF, TXT or Markdown files on the chat to answer from them.
          </p>
        ) : (
          <ul aria-label="Attached documents" className="space-y-2">
            {documents.map((d) => (
              <DocumentRow key={d.id} document={d} onDetach={() => void controller.detach(d)} onDelete={() => confirmDelete(d)} />
            ))}
            {uploads.map((u) => (
              <UploadRow key={u.key} upload={u} onDismiss={() => controller.dismissUpload(u.key)} />
            ))}
          </ul>
        )}
        {mode === "grounded" && documents.length === 0 && uploads.length === 0 ? (
          <p className="text-xs text-amber-800 dark:text-amber-300">Documents-only mode with nothing attached: answers will have nothing to draw on.</p>
        ) : null}
      </div>
    </section>
  );
}
