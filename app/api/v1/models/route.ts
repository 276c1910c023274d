import { json, withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { serializeModel } from "@/lib/api/serialize";
import { listAvailableModels } from "@/lib/ai/catalog";

export const dynamic = "force-dynamic";

/** OpenAI-compatible list shape, extended with context windows and prices; errors carry OpenAI's `error` member. */
export const GET = withAuth(
  async () => {
    const models = await listAvailableModels();
    return json({ object: "list", data: models.map(serializeModel), next_cursor: null });
  },
  { openAiCompatible: true },
);

export const { OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
