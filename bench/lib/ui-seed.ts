/**
 * Seeds an embedded (PGlite) data directory for the UI benchmark before the app opens it: one
 * user, `conversations` conversations spread over the last ~400 days (a few pinned), each with a
 * question and an answer, and one long conversation of `longMessages` messages of varied Markdown.
 * Runs in the bench process through the app's own client (migrations included), then closes it:
 * PGlite allows one process per directory.
 */

export type UiSeed = {
  email: string;
  password: string;
  longConversationId: string;
  /** Text only the long conversation's first message contains. */
  firstMessageMarker: string;
  /** Title of the oldest conversation: the last one the sidebar reaches. */
  oldestTitle: string;
  conversations: number;
  longMessages: number;
  seedMs: number;
};

/** Call with process.env already pointing at the data directory (DATABASE_URL "", DATA_DIR). */
export async function seedUiData(options: { conversations: number; longMessages: number }): Promise<UiSeed> {
  const t0 = performance.now();
  const [{ getDb, closeDb, rowsOf }, { createUser }, { messages }, { countTextTokens }, { modelInfo, OFFLINE_MODEL_ID }, { sql }] = await Promise.all([
    import("../../lib/db/client"),
    import("../../lib/db/queries/users"),
    import("../../lib/db/schema"),
    import("../../lib/context/tokens"),
    import("../../lib/ai/models"),
    import("drizzle-orm"),
  ]);
  const db = await getDb();
  const email = "bench-ui@example.test";
  const password = "bench ui password 123";
  // createUser hashes with the app's scrypt parameters, so signing in through the form works.
  const user = await createUser({ email, password, name: "Bench UI" });
  const family = modelInfo("offline", OFFLINE_MODEL_ID.slice("offline:".length)).tokenizer;
  const others = options.conversations - 1;

  // The ordinary conversations, g = 1 (newest) … others (oldest, ~400 days ago); every 2,000th pinned.
  await db.execute(sql`
    insert into conversations (user_id, title, model, pinned, last_seq, total_tokens, created_at, updated_at, activity_at, last_message_at)
    select ${user.id}::uuid,
           ${sql.raw(titleSql("g"))},
           ${OFFLINE_MODEL_ID}, g % 2000 = 7, 2, 120,
           t - interval '2 minutes', t, t, t
    from (select g, now() - (g * ${400 / Math.max(1, others)}::float8) * interval '1 day' - (g % 97) * interval '1 minute' as t
          from generate_series(1, ${others}::int) as g) s`);
  await db.execute(sql`
    insert into messages (conversation_id, seq, role, content, status, model, provider, token_count, token_family, created_at, updated_at)
    select c.id, r.seq, r.role,
           case r.seq when 1 then 'Question about ' || c.title || ': what should I check first?'
                      else 'Start with the inputs, then the **edge cases** for ' || c.title || '. Keep a note of what changed.' end,
           'complete', case r.seq when 1 then null else c.model end, case r.seq when 1 then null else 'offline' end,
           case r.seq when 1 then 12 else 24 end, ${family},
           c.activity_at - (2 - r.seq) * interval '1 minute', c.activity_at
    from conversations c cross join (values (1, 'user'), (2, 'assistant')) as r(seq, role)
    where c.user_id = ${user.id}::uuid`);

  // The long conversation is the most recently active one, so it heads the sidebar.
  const firstMessageMarker = "Where should a new team start? (bench message 1)";
  const bodies = Array.from({ length: options.longMessages }, (_, i) => messageText(i + 1, firstMessageMarker));
  const totalTokens = bodies.reduce((sum, text) => sum + countTextTokens(text, family), 0);
  const created = await db.execute(sql`
    insert into conversations (user_id, title, model, last_seq, total_tokens, activity_at, last_message_at)
    values (${user.id}::uuid, ${`Long thread (${options.longMessages.toLocaleString("en")} messages)`}, ${OFFLINE_MODEL_ID},
            ${options.longMessages}, ${totalTokens}, now(), now())
    returning id`);
  const longConversationId = rowsOf<{ id: string }>(created)[0]!.id;
  const start = Date.now() - options.longMessages * 60_000;
  for (let from = 0; from < bodies.length; from += 200) {
    await db.insert(messages).values(
      bodies.slice(from, from + 200).map((content, j) => {
        const seq = from + j + 1;
        const assistant = seq % 2 === 0;
        const at = new Date(start + seq * 60_000);
        return {
          conversationId: longConversationId,
          seq,
          role: assistant ? ("assistant" as const) : ("user" as const),
          content,
          status: "complete" as const,
          provider: assistant ? "offline" : null,
          model: assistant ? OFFLINE_MODEL_ID : null,
          tokenCount: countTextTokens(content, family),
          tokenFamily: family,
          createdAt: at,
          updatedAt: at,
        };
      }),
    );
  }
  await closeDb();
  return {
    email,
    password,
    longConversationId,
    firstMessageMarker,
    oldestTitle: oldestTitleText(others),
    conversations: options.conversations,
    longMessages: options.longMessages,
    seedMs: Math.round(performance.now() - t0),
  };
}

const VERBS = ["Plan", "Debug", "Review", "Draft", "Compare", "Explain", "Refactor", "Summarize", "Translate", "Outline", "Estimate", "Test"];
const SUBJECTS = ["the Q3 budget", "a flaky CI job", "our onboarding email", "Postgres indexes", "a trip to Lisbon", "the React sidebar", "quarterly OKRs", "a REST API design", "sourdough hydration", "the release notes", "a job offer", "GDPR retention", "a birthday speech", "Kubernetes limits", "the garden layout", "TypeScript generics", "a grant proposal"];

/** SQL for a varied title of conversation number `g` (a column name or a literal). */
function titleSql(g: string | number): string {
  const verbs = `(array[${VERBS.map((v) => `'${v}'`).join(",")}])`;
  const subjects = `(array[${SUBJECTS.map((s) => `'${s}'`).join(",")}])`;
  return `${verbs}[1 + (${g}) % ${VERBS.length}] || ' ' || ${subjects}[1 + ((${g}) * 7) % ${SUBJECTS.length}] || ' #' || (${g})`;
}

/** The same title as titleSql, computed here (for the oldest conversation). */
function oldestTitleText(g: number): string {
  return `${VERBS[g % VERBS.length]} ${SUBJECTS[(g * 7) % SUBJECTS.length]} #${g}`;
}

/** Deterministic Markdown of varied length: prose, lists, code blocks, a table now and then. */
function messageText(seq: number, firstMarker: string): string {
  if (seq === 1) return `${firstMarker}\n\nWe have a small budget and two engineers. What would you do first?`;
  const random = mulberry32(seq);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const sentence = () => {
    const words = Array.from({ length: 8 + Math.floor(random() * 14) }, () => pick(WORDS));
    return `${words.join(" ").replace(/^./, (c) => c.toUpperCase())}.`;
  };
  const paragraph = (n: number) => Array.from({ length: n }, sentence).join(" ");
  if (seq % 2 === 1) {
    // Questions: mostly short, sometimes with a pasted snippet.
    const text = `(${seq}) ${paragraph(1 + Math.floor(random() * 2))}`;
    return random() < 0.15 ? `${text}\n\n\`\`\`ts\n${codeBlock(random)}\n\`\`\`` : text;
  }
  const blocks: string[] = [`(${seq}) ${paragraph(2 + Math.floor(random() * 3))}`];
  const extra = Math.floor(random() * 4);
  for (let i = 0; i < extra; i++) {
    const kind = random();
    if (kind < 0.3) blocks.push(Array.from({ length: 3 + Math.floor(random() * 4) }, () => `- **${pick(WORDS)}**: ${sentence()}`).join("\n"));
    else if (kind < 0.55) blocks.push(`\`\`\`${pick(["ts", "python", "sql", "bash"])}\n${codeBlock(random)}\n\`\`\``);
    else if (kind < 0.7) blocks.push(`| option | cost | risk |\n|---|---|---|\n${Array.from({ length: 3 }, () => `| ${pick(WORDS)} | ${Math.floor(random() * 900)} | ${pick(["low", "medium", "high"])} |`).join("\n")}`);
    else if (kind < 0.8) blocks.push(`### ${sentence()}\n\n1. ${sentence()}\n2. ${sentence()}\n3. Use \`${pick(WORDS)}()\` ${sentence()}`);
    else blocks.push(paragraph(3 + Math.floor(random() * 5)));
  }
  return blocks.join("\n\n");
}

function codeBlock(random: () => number): string {
  const lines = 3 + Math.floor(random() * 12);
  return Array.from({ length: lines }, (_, i) => {
    const name = WORDS[Math.floor(random() * WORDS.length)]!;
    return i === 0 ? `function ${name}(items: string[]) {` : i === lines - 1 ? "}" : `  const ${name}${i} = items.filter((x) => x.length > ${i}).map(String); // ${name}`;
  }).join("\n");
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  "budget", "index", "latency", "cache", "review", "deploy", "schema", "migration", "users", "rollout", "metric", "queue",
  "retry", "backlog", "estimate", "window", "token", "sidebar", "render", "scroll", "query", "report", "owner", "deadline",
  "the", "a", "with", "for", "before", "after", "then", "because", "every", "each", "small", "large", "stable", "fast",
];
