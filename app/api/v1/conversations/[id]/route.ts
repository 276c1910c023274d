import { assertMayAttach, json, withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { serializeConversation, serializeMessagesFor } from "@/lib/api/serialize";
import { chooseModel } from "@/lib/ai/catalog";
import {
  deleteConversation,
  getConversationOrThrow,
  updateConversation,
  type ConversationPatch,
} from "@/lib/db/queries/conversations";
import { listConversationDocumentIds } from "@/lib/db/queries/documents";
import { listAllMessages, listNewestMessages } from "@/lib/db/queries/messages";
import { getConversationQuerySchema, updateConversationSchema } from "../schema";

export const dynamic = "force-dynamic";

export const GET = withAuth(
  async ({ user, params, query }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    const [messages, documentIds] = await Promise.all([
      query.message_limit
        ? listNewestMessages({ userId: user.id, conversationId: conversation.id, limit: query.message_limit })
        : listAllMessages({ conversationId: conversation.id }),
      listConversationDocumentIds({ conversationIds: [conversation.id] }),
    ]);
    return json({ conversation: serializeConversation(conversation, documentIds.get(conversation.id)), messages: await serializeMessagesFor(messages, user.id) });
  },
  { query: getConversationQuerySchema, scope: "conversations:read" },
);

export const PATCH = withAuth(
  async ({ user, apiKey, params, body }) => {
    assertMayAttach(apiKey, body.document_ids);
    if (body.model) await chooseModel(body.model); // 404 for a model this server does not list
    const patch: ConversationPatch = {
      title: body.title,
      pinned: body.pinned,
      archived: body.archived,
      // Attaching documents to an open conversation grounds it, unless the caller says otherwise.
      mode: body.mode ?? (body.document_ids?.length ? "grounded" : undefined),
      model: body.model,
      systemPrompt: body.system_prompt,
      temperature: body.temperature,
    };
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const conversation = await updateConversation({ id: params.id ?? "", userId: user.id, patch: defined, documentIds: body.document_ids });
    const documentIds = await listConversationDocumentIds({ conversationIds: [conversation.id] });
    return json(serializeConversation(conversation, documentIds.get(conversation.id)));
  },
  { body: updateConversationSchema, scope: "conversations:write" },
);

export const DELETE = withAuth(async ({ user, params }) => {
  await deleteConversation({ id: params.id ?? "", userId: user.id });
  return new Response(null, { status: 204 });
}, { scope: "conversations:write" });

export const { OPTIONS, POST, PUT } = otherMethods({ GET, PATCH, DELETE });
