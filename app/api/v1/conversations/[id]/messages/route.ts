import { json, withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { serializeMessagesFor } from "@/lib/api/serialize";
import { completeTurn, streamTurn, turnJson, wantsStream } from "@/lib/chat/respond";
import { deriveTitle } from "@/lib/chat/title";
import { getConversationOrThrow, updateConversation } from "@/lib/db/queries/conversations";
import { listMessagesPage } from "@/lib/db/queries/messages";
import { admitModelCall, admitted } from "@/lib/chat/admit";
import { listMessagesQuerySchema, postMessageSchema } from "../../schema";

export const dynamic = "force-dynamic";

export const GET = withAuth(
  async ({ user, params, query }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    const page = await listMessagesPage({ userId: user.id, conversationId: conversation.id, ...query });
    return json({ data: await serializeMessagesFor(page.rows, user.id), next_cursor: page.nextCursor });
  },
  { query: listMessagesQuerySchema, scope: "conversations:read" },
);

export const POST = withAuth(
  async ({ user, apiKey, params, body, request }) => {
    let conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    // 422 (model no longer offered, or unpriced under a USD budget) or 429 before anything is saved or streamed.
    const admission = await admitModelCall({ caller: { user, apiKey }, model: conversation.model, stored: true });
    return admitted(admission, async () => {
      if (conversation.lastSeq === 0 && conversation.title === "New chat") {
        conversation = await updateConversation({
          id: conversation.id,
          userId: user.id,
          patch: { title: deriveTitle(body.content) },
        });
      }
      const turn = { userId: user.id, apiKeyId: apiKey?.id ?? null, conversation, content: body.content, payer: admission.payer, reservation: admission.reservation };
      if (wantsStream(request, body.stream)) return streamTurn(turn);
      const result = await completeTurn(turn);
      if (result.problem) throw result.problem;
      return json(turnJson(result), 201);
    });
  },
  { body: postMessageSchema, scope: "conversations:write", rateLimit: "chat" },
);

export const { OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
