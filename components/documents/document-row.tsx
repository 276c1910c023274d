import type { ReactNode } from "react";
import { ProgressBar } from "@/components/ui/progress-bar";
import type { PendingUpload } from "./use-conversation-documents";
import { contentUrl, documentPercent, documentStatusText, formatBytes, type DocumentResource } from "./types";

const action =
  "rounded-md px-2 py-1 text-xs font-medium hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-blue-500 dark:hover:bg-zinc-800";

function FileIcon() {
  return (
    <svg aria-hidden="true" viewBox="0 0 20 20" className="size-4 shrink-0 text-zinc-500">
      <path d="M5 2h7l4 4v12H5z M12 2v4h4" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round" />
    </svg>
  );
}

function Row({ name, meta, status, percent, tone, actions }: { name: string; meta?: string; status: string; percent: number; tone: "neutral" | "success" | "danger"; actions: ReactNode }) {
  return (
    <li className="rounded-lg border border-zinc-200 bg-white px-3 py-2 dark:border-zinc-700 dark:bg-zinc-900">
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
        <FileIcon />
        <span className="min-w-0 flex-1 truncate text-sm font-medium" title={name}>
          {name}
        </span>
        {meta ? <span className="shrink-0 text-xs text-zinc-500 dark:text-zinc-400">{meta}</span> : null}
        <span className="flex shrink-0 items-center gap-0.5">{actions}</span>
      </div>
      <ProgressBar label={name} value={percent} valueText={status} tone={tone} className="mt-2" />
      <p className={`mt-1 text-xs ${tone === "danger" ? "text-red-700 dark:text-red-400" : "text-zinc-600 dark:text-zinc-400"}`}>{status}</p>
    </li>
  );
}

export function DocumentRow({ document, onDetach, onDelete }: { document: DocumentResource; onDetach: () => void; onDelete: () => void }) {
  const tone = document.status === "failed" ? "danger" : document.status === "ready" ? "success" : "neutral";
  return (
    <Row
      name={document.filename}
      meta={formatBytes(document.size_bytes)}
      status={documentStatusText(document)}
      percent={documentPercent(document)}
      tone={tone}
      actions={
        <>
          <a href={contentUrl(document.id)} target="_blank" rel="noopener noreferrer" aria-label={`Open ${document.filename}`} className={`${action} text-blue-700 dark:text-blue-300`}>
            Open
          </a>
          <button type="button" onClick={onDetach} aria-label={`Detach ${document.filename}`} className={action}>
            Detach
          </button>
          <button type="button" onClick={onDelete} aria-label={`Delete ${document.filename}`} className={`${action} text-red-700 dark:text-red-400`}>
            Delete
          </button>
        </>
      }
    />
  );
}

export function UploadRow({ upload, onDismiss }: { upload: PendingUpload; onDismiss: () => void }) {
  const failed = upload.error !== null;
  return (
    <Row
      name={upload.filename}
      status={failed ? `Failed: ${upload.error}` : "Uploading…"}
      percent={failed ? 100 : Math.round(upload.fraction * 100)}
      tone={failed ? "danger" : "neutral"}
      actions={
        failed ? (
          <button type="button" onClick={onDismiss} aria-label={`Dismiss ${upload.filename}`} className={action}>
            Dismiss
          </button>
        ) : null
      }
    />
  );
}
