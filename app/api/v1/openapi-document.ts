import { pageQuerySchema } from "@/lib/api/pagination";
import { buildOpenApiDocument, type Operation } from "@/lib/api/openapi";
import {
  apiKeyResource,
  chatCompletionResource,
  conversationResource,
  conversationWithMessagesResource,
  createdApiKeyResource,
  feedbackResource,
  messageResource,
  modelListResource,
  pageOf,
  problemResource,
  turnResource,
  usageResource,
} from "@/lib/api/resources";
import { createApiKeySchema } from "./api-keys/schema";
import { chatCompletionSchema } from "./chat/completions/schema";
import {
  createConversationSchema,
  feedbackSchema,
  listConversationsQuerySchema,
  postMessageSchema,
  updateConversationSchema,
} from "./conversations/schema";
import { usageQuerySchema } from "./usage/schema";

/** Every v1 operation, described from the schemas the handlers use. */

const requests = {
  CreateConversationRequest: createConversationSchema,
  UpdateConversationRequest: updateConversationSchema,
  PostMessageRequest: postMessageSchema,
  FeedbackRequest: feedbackSchema,
  CreateApiKeyRequest: createApiKeySchema,
  ChatCompletionRequest: chatCompletionSchema,
};

const conversationPage = pageOf(conversationResource);
const messagePage = pageOf(messageResource);
const apiKeyPage = pageOf(apiKeyResource);

const responses = {
  Problem: problemResource,
  Conversation: conversationResource,
  Message: messageResource,
  ConversationWithMessages: conversationWithMessagesResource,
  Turn: turnResource,
  ConversationPage: conversationPage,
  MessagePage: messagePage,
  ApiKey: apiKeyResource,
  CreatedApiKey: createdApiKeyResource,
  ApiKeyPage: apiKeyPage,
  Feedback: feedbackResource,
  Usage: usageResource,
  ModelList: modelListResource,
  ChatCompletion: chatCompletionResource,
};

const authErrors = ["unauthenticated", "invalid_api_key", "rate_limited"] as const;
const bodyErrors = ["invalid_json", "payload_too_large", "unsupported_media_type", "validation_failed"] as const;
const postErrors = [...bodyErrors, "idempotency_key_reused", "idempotency_in_progress"] as const;
const modelErrors = ["model_not_available", "upstream_error", "upstream_unavailable", "upstream_timeout"] as const;

export const operations: Operation[] = [
  {
    method: "get",
    path: "/conversations",
    operationId: "listConversations",
    summary: "List conversations, most recently active first",
    tag: "Conversations",
    scope: "conversations:read",
    query: listConversationsQuerySchema,
    responses: { 200: { description: "A page of conversations", schema: conversationPage } },
    errors: [...authErrors, "insufficient_scope", "invalid_cursor", "validation_failed"],
  },
  {
    method: "post",
    path: "/conversations",
    operationId: "createConversation",
    summary: "Start a conversation, optionally with a first message",
    description: "With `first_message`, the reply is generated: as JSON, or streamed when `stream: true` or `Accept: text/event-stream`.",
    tag: "Conversations",
    scope: "conversations:write",
    body: createConversationSchema,
    responses: { 201: { description: "The conversation and its messages (empty without first_message)", schema: conversationWithMessagesResource, stream: "ui-message" } },
    errors: [...authErrors, "insufficient_scope", ...postErrors, ...modelErrors],
  },
  {
    method: "get",
    path: "/conversations/{id}",
    operationId: "getConversation",
    summary: "A conversation with its full history in order",
    tag: "Conversations",
    scope: "conversations:read",
    responses: { 200: { description: "The conversation and all its messages", schema: conversationWithMessagesResource } },
    errors: [...authErrors, "insufficient_scope", "conversation_not_found"],
  },
  {
    method: "patch",
    path: "/conversations/{id}",
    operationId: "updateConversation",
    summary: "Rename, pin, archive or reconfigure a conversation",
    tag: "Conversations",
    scope: "conversations:write",
    body: updateConversationSchema,
    responses: { 200: { description: "The updated conversation", schema: conversationResource } },
    errors: [...authErrors, "insufficient_scope", ...bodyErrors, "conversation_not_found", "model_not_available"],
  },
  {
    method: "delete",
    path: "/conversations/{id}",
    operationId: "deleteConversation",
    summary: "Delete a conversation and its messages",
    tag: "Conversations",
    scope: "conversations:write",
    responses: { 204: { description: "Deleted" } },
    errors: [...authErrors, "insufficient_scope", "conversation_not_found"],
  },
  {
    method: "get",
    path: "/conversations/{id}/messages",
    operationId: "listMessages",
    summary: "Page through a conversation's messages in order",
    tag: "Messages",
    scope: "conversations:read",
    query: pageQuerySchema,
    responses: { 200: { description: "A page of messages", schema: messagePage } },
    errors: [...authErrors, "insufficient_scope", "conversation_not_found", "invalid_cursor", "validation_failed"],
  },
  {
    method: "post",
    path: "/conversations/{id}/messages",
    operationId: "postMessage",
    summary: "Send a message and get the assistant's reply",
    description: "The user message is saved before the model is called. On a model failure the reply is saved with status `error` and the response is 502/503/504.",
    tag: "Messages",
    scope: "conversations:write",
    body: postMessageSchema,
    responses: { 201: { description: "Both messages, or the UI message stream", schema: turnResource, stream: "ui-message" } },
    errors: [...authErrors, "insufficient_scope", ...postErrors, "conversation_not_found", ...modelErrors],
  },
  {
    method: "post",
    path: "/conversations/{id}/messages/{message_id}/feedback",
    operationId: "rateMessage",
    summary: "Rate an assistant reply (rating again replaces it)",
    tag: "Messages",
    scope: "conversations:write",
    body: feedbackSchema,
    responses: { 200: { description: "The stored feedback", schema: feedbackResource } },
    errors: [...authErrors, "insufficient_scope", ...postErrors, "conversation_not_found", "message_not_found"],
  },
  {
    method: "get",
    path: "/api-keys",
    operationId: "listApiKeys",
    summary: "List your active API keys (never the keys themselves; browser session only)",
    tag: "Account",
    sessionOnly: true,
    responses: { 200: { description: "Your keys", schema: apiKeyPage } },
    errors: [...authErrors, "session_required"],
  },
  {
    method: "post",
    path: "/api-keys",
    operationId: "createApiKey",
    summary: "Create an API key (browser session only)",
    description: "The response is the only time the key is shown. API keys cannot create keys.",
    tag: "Account",
    sessionOnly: true,
    body: createApiKeySchema,
    responses: { 201: { description: "The new key, with its secret", schema: createdApiKeyResource } },
    errors: [...authErrors, "session_required", ...postErrors],
  },
  {
    method: "delete",
    path: "/api-keys/{id}",
    operationId: "revokeApiKey",
    summary: "Revoke an API key at once (browser session only)",
    tag: "Account",
    sessionOnly: true,
    responses: { 204: { description: "Revoked" } },
    errors: [...authErrors, "session_required", "api_key_not_found"],
  },
  {
    method: "get",
    path: "/usage",
    operationId: "getUsage",
    summary: "Your tokens and cost, by day or by model",
    tag: "Account",
    scope: "conversations:read",
    query: usageQuerySchema,
    responses: { 200: { description: "Usage in the window (default: last 30 days)", schema: usageResource } },
    errors: [...authErrors, "insufficient_scope", "validation_failed"],
  },
  {
    method: "get",
    path: "/models",
    operationId: "listModels",
    summary: "Models this server can use now, with context windows and prices (OpenAI-compatible)",
    tag: "Models",
    responses: { 200: { description: "The usable models", schema: modelListResource } },
    errors: [...authErrors],
  },
  {
    method: "post",
    path: "/chat/completions",
    operationId: "createChatCompletion",
    summary: "OpenAI-compatible chat completion",
    description:
      "Works with the official `openai` clients (`baseURL: <host>/api/v1`). Recorded as a conversation unless `store: false`; `conversation_id` continues one. Errors also carry OpenAI's `error` member.",
    tag: "OpenAI-compatible",
    scope: "conversations:write",
    body: chatCompletionSchema,
    responses: { 200: { description: "The completion, or chat.completion.chunk events", schema: chatCompletionResource, stream: "openai" } },
    errors: [...authErrors, "insufficient_scope", ...postErrors, "conversation_not_found", ...modelErrors],
  },
];

let cached: ReturnType<typeof buildOpenApiDocument> | undefined;

export function openApiDocument() {
  cached ??= buildOpenApiDocument({
    title: "BOT GPT API",
    version: "1.0.0",
    description: "The public, versioned API of BOT GPT. The browser UI uses the same endpoints. Human reference: /docs/api.",
    requests,
    responses,
    operations,
  });
  return cached;
}
