import { assertMayAttach, json, withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { serializeConversation } from "@/lib/api/serialize";
import { chooseModel } from "@/lib/ai/catalog";
import { defaultModelId } from "@/lib/ai/providers";
import { admitModelCall, admitted } from "@/lib/chat/admit";
import { completeTurn, streamTurn, turnJson, wantsStream } from "@/lib/chat/respond";
import { deriveTitle } from "@/lib/chat/title";
import { createConversation, getConversationOrThrow, listConversations } from "@/lib/db/queries/conversations";
import { listConversationDocumentIds } from "@/lib/db/queries/documents";
import { createConversationSchema, listConversationsQuerySchema } from "./schema";

export const dynamic = "force-dynamic";

export const GET = withAuth(
  async ({ user, query }) => {
    const page = await listConversations({ userId: user.id, ...query });
    const documentIds = await listConversationDocumentIds({ conversationIds: page.rows.map((c) => c.id) });
    return json({ data: page.rows.map((c) => serializeConversation(c, documentIds.get(c.id))), next_cursor: page.nextCursor });
  },
  { query: listConversationsQuerySchema, scope: "conversations:read" },
);

export const POST = withAuth(
  async ({ user, apiKey, body, request }) => {
    assertMayAttach(apiKey, body.document_ids);
    const model = body.model ?? defaultModelId();
    // 404 for a model this server does not list and, with a first message, 422/429 for the budget —
    // before anything is saved.
    const admission = body.first_message ? await admitModelCall({ caller: { user, apiKey }, model }) : null;
    if (!admission) await chooseModel(model);
    return admitted(admission, async () => {
      const created = await createConversation({
        userId: user.id,
        title: body.title ?? (body.first_message ? deriveTitle(body.first_message) : "New chat"),
        // Attaching documents is asking for answers from them, unless the caller says otherwise.
        mode: body.mode ?? (body.document_ids?.length ? "grounded" : "open"),
        model,
        systemPrompt: body.system_prompt ?? null,
        temperature: body.temperature ?? null,
        documentIds: body.document_ids,
      });
      const documentIds = body.document_ids ? [...new Set(body.document_ids)] : [];
      if (!admission || !body.first_message) {
        return json({ conversation: serializeConversation(created, documentIds), messages: [] }, 201);
      }
      const turn = { userId: user.id, apiKeyId: apiKey?.id ?? null, conversation: created, content: body.first_message, payer: admission.payer, reservation: admission.reservation };
      if (wantsStream(request, body.stream)) return streamTurn(turn);
      const result = await completeTurn(turn);
      if (result.problem) throw result.problem;
      const conversation = await getConversationOrThrow({ id: created.id, userId: user.id });
      const { user_message, assistant_message } = turnJson(result);
      return json({ conversation: serializeConversation(conversation, documentIds), messages: [user_message, assistant_message] }, 201);
    });
  },
  // Only a first message calls the model: an empty conversation draws from the general bucket.
  { body: createConversationSchema, scope: "conversations:write", rateLimit: (body) => (body.first_message ? "chat" : "default") },
);

export const { OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
