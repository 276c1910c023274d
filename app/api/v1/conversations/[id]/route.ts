import { json, withAuth } from "@/lib/api/handler";
import { serializeConversation, serializeMessage } from "@/lib/api/serialize";
import { resolveModel } from "@/lib/ai/providers";
import {
  deleteConversation,
  getConversationOrThrow,
  updateConversation,
  type ConversationPatch,
} from "@/lib/db/queries/conversations";
import { listAllMessages } from "@/lib/db/queries/messages";
import { updateConversationSchema } from "../schema";

export const dynamic = "force-dynamic";

export const GET = withAuth(async ({ user, params }) => {
  const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
  const messages = await listAllMessages({ conversationId: conversation.id });
  return json({ conversation: serializeConversation(conversation), messages: messages.map(serializeMessage) });
}, { scope: "conversations:read" });

export const PATCH = withAuth(
  async ({ user, params, body }) => {
    if (body.model) resolveModel(body.model);
    const patch: ConversationPatch = {
      title: body.title,
      pinned: body.pinned,
      archived: body.archived,
      mode: body.mode,
      model: body.model,
      systemPrompt: body.system_prompt,
    };
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const conversation = await updateConversation({ id: params.id ?? "", userId: user.id, patch: defined });
    return json(serializeConversation(conversation));
  },
  { body: updateConversationSchema, scope: "conversations:write" },
);

export const DELETE = withAuth(async ({ user, params }) => {
  await deleteConversation({ id: params.id ?? "", userId: user.id });
  return new Response(null, { status: 204 });
}, { scope: "conversations:write" });
