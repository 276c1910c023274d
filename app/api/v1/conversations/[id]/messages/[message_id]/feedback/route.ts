import { json, withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { deleteFeedback, upsertFeedback } from "@/lib/db/queries/feedback";
import { getMessageOrThrow } from "@/lib/db/queries/messages";
import { feedbackSchema } from "../../../../schema";

export const dynamic = "force-dynamic";

export const POST = withAuth(
  async ({ user, params, body }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    const message = await getMessageOrThrow({ id: params.message_id ?? "", conversationId: conversation.id });
    const feedback = await upsertFeedback({ message, userId: user.id, rating: body.rating, comment: body.comment ?? null });
    return json({
      message_id: feedback.messageId,
      rating: feedback.rating,
      comment: feedback.comment,
      created_at: feedback.createdAt.toISOString(),
      updated_at: feedback.updatedAt.toISOString(),
    });
  },
  { body: feedbackSchema, scope: "conversations:write" },
);

/** Clears the caller's rating of the message (204, also when there was none). */
export const DELETE = withAuth(
  async ({ user, params }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    const message = await getMessageOrThrow({ id: params.message_id ?? "", conversationId: conversation.id });
    await deleteFeedback({ messageId: message.id, userId: user.id });
    return new Response(null, { status: 204 });
  },
  { scope: "conversations:write" },
);

export const { GET, HEAD, OPTIONS, PUT, PATCH } = otherMethods({ POST, DELETE });
