import { ApiError, apiCall, problemMessage, type Problem } from "@/components/api-client";
import type { ConversationMode, DocumentResource } from "./types";

/** Browser calls to /api/v1 for documents and the conversation fields they touch. */

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
      const problem = body as Problem | null;
      reject(new ApiError(problemMessage(problem, `The upload failed (HTTP ${request.status}).`), request.status, problem));
    };
    request.onerror = () => reject(new ApiError("The connection failed during the upload.", 0));
    request.send(form);
  });
}

export async function fetchDocument(id: string): Promise<DocumentResource> {
  return apiCall(`/documents/${id}`, { fallback: "Could not load the document." });
}

export async function listDocuments(cursor?: string | null): Promise<{ data: DocumentResource[]; next_cursor: string | null }> {
  const query = `limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  return apiCall(`/documents?${query}`, { fallback: "Could not load your documents." });
}

export async function deleteDocument(id: string): Promise<void> {
  // Already gone is what the person wanted.
  await apiCall(`/documents/${id}`, { method: "DELETE", accept: [404], fallback: "Could not delete the document." });
}

type ConversationFields = { id: string; mode: ConversationMode; document_ids: string[] };

export async function createConversation(body: { mode?: ConversationMode; model?: string; document_ids?: string[] }): Promise<ConversationFields> {
  const result = await apiCall<{ conversation: ConversationFields }>("/conversations", { method: "POST", body, fallback: "Could not start a conversation." });
  return result.conversation;
}

export async function updateConversation(
  id: string,
  patch: { mode?: ConversationMode; model?: string; document_ids?: string[] },
): Promise<ConversationFields> {
  return apiCall(`/conversations/${id}`, { method: "PATCH", body: patch, fallback: "Could not update the conversation." });
}
