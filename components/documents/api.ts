import type { ConversationMode, DocumentResource, Problem } from "./types";

/** Browser calls to /api/v1 for documents and the conversation fields they touch. */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function readProblem(response: Response, fallback: string): Promise<ApiError> {
  const problem = (await response.json().catch(() => null)) as Problem | null;
  return new ApiError(problem?.detail || problem?.title || fallback, response.status);
}

async function json<T>(response: Response, fallback: string): Promise<T> {
  if (!response.ok) throw await readProblem(response, fallback);
  return (await response.json()) as T;
}

/**
 * Uploads one file. XMLHttpRequest rather than fetch: it is the browser API that reports upload
 * progress, which is most of the wait for a large PDF.
 */
export function uploadDocument(input: {
  file: File;
  conversationId?: string;
  onProgress?: (fraction: number) => void;
}): Promise<DocumentResource> {
  const form = new FormData();
  form.append("file", input.file, input.file.name);
  if (input.conversationId) form.append("conversation_id", input.conversationId);
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/v1/documents");
    request.responseType = "text";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) input.onProgress?.(event.loaded / event.total);
    };
    request.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = null;
      }
      if (request.status >= 200 && request.status < 300 && body && typeof body === "object" && "id" in body) {
        resolve(body as DocumentResource);
        return;
      }
      const problem = (body ?? {}) as Problem;
      reject(new ApiError(problem.detail || problem.title || `The upload failed (HTTP ${request.status}).`, request.status));
    };
    request.onerror = () => reject(new ApiError("The connection failed during the upload.", 0));
    request.send(form);
  });
}

export async function fetchDocument(id: string): Promise<DocumentResource> {
  return json(await fetch(`/api/v1/documents/${id}`, { cache: "no-store" }), "Could not load the document.");
}

export async function listDocuments(cursor?: string | null): Promise<{ data: DocumentResource[]; next_cursor: string | null }> {
  const query = `limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  return json(await fetch(`/api/v1/documents?${query}`, { cache: "no-store" }), "Could not load your documents.");
}

export async function deleteDocument(id: string): Promise<void> {
  const response = await fetch(`/api/v1/documents/${id}`, { method: "DELETE" });
  // Already gone is what the person wanted.
  if (!response.ok && response.status !== 404) throw await readProblem(response, "Could not delete the document.");
}

type ConversationFields = { id: string; mode: ConversationMode; document_ids: string[] };

export async function createConversation(body: { mode?: ConversationMode; model?: string; document_ids?: string[] }): Promise<ConversationFields> {
  const response = await fetch("/api/v1/conversations", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const result = await json<{ conversation?: ConversationFields }>(response, "Could not start a conversation.");
  if (!result.conversation) throw new ApiError("Could not start a conversation.", response.status);
  return result.conversation;
}

export async function updateConversation(
  id: string,
  patch: { mode?: ConversationMode; model?: string; document_ids?: string[] },
): Promise<ConversationFields> {
  const response = await fetch(`/api/v1/conversations/${id}`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(patch),
  });
  return json(response, "Could not update the conversation.");
}
