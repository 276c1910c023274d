/**
 * Runs one chat turn and reports progress on stdout, so a test can SIGKILL it mid-reply:
 * a real crash, not a simulated one. Configuration comes from the environment.
 */
import { createConversation } from "@/lib/db/queries/conversations";
import { createUser } from "@/lib/db/queries/users";
import { runTurn } from "@/lib/chat/turn";

async function main() {
  const user = await createUser({ email: `crash-${process.pid}-${Date.now()}@example.test`, password: "long enough pw" });
  const conversation = await createConversation({ userId: user.id, title: "crash", mode: "open", model: "openai:gpt-4o-mini", systemPrompt: null });
  let reported = false;
  await runTurn({
    userId: user.id,
    conversation,
    content: "tell me a long story",
    signal: new AbortController().signal,
    events: {
      onStart: ({ assistantMessage }) => console.log(JSON.stringify({ conversationId: conversation.id, messageId: assistantMessage.id })),
      onDelta: () => {
        if (!reported) console.log("DELTA");
        reported = true;
      },
    },
  });
  console.log("FINISHED");
}

void main();
