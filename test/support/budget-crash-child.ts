/**
 * Starts one chat turn under a token budget — admitted through the same door as the routes, so it
 * holds a budget reservation — and reports on stdout, so a test can SIGKILL it mid-reply and see
 * what a dead process leaves behind. Configuration comes from the environment.
 */
import { admitModelCall } from "@/lib/chat/admit";
import { runTurn } from "@/lib/chat/turn";
import { setUserBudget } from "@/lib/db/queries/budgets";
import { createConversation } from "@/lib/db/queries/conversations";
import { createUser } from "@/lib/db/queries/users";

async function main() {
  const created = await createUser({ email: `budget-crash-${process.pid}-${Date.now()}@example.test`, password: "long enough pw" });
  const user = { ...created, ...(await setUserBudget({ user: created.id, tokensPerDay: Number(process.env.CHILD_TOKENS_PER_DAY) })) };
  const conversation = await createConversation({ userId: user.id, title: "crash", mode: "open", model: "openai:gpt-4o-mini", systemPrompt: null });
  const admission = await admitModelCall({ caller: { user, apiKey: null }, model: conversation.model, stored: true });
  console.log(JSON.stringify({ userId: user.id, reservationId: admission.reservation?.id ?? null }));
  let reported = false;
  await runTurn({
    userId: user.id,
    conversation,
    content: "tell me a long story",
    signal: new AbortController().signal,
    payer: admission.payer,
    reservation: admission.reservation,
    events: {
      onDelta: () => {
        if (!reported) console.log("DELTA");
        reported = true;
      },
    },
  });
  console.log("FINISHED");
}

void main();
