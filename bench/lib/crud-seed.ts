import pg from "pg";
import { recreateDatabase } from "./setup";
import { random } from "./prose";
import type { TargetsFile } from "./crud-load";

/**
 * Seeding for the CRUD benchmark (bench/crud.ts): users, conversations and messages written with
 * set-based SQL (INSERT … SELECT over generate_series) into a database the app has already
 * migrated, matching the schema in lib/db/schema/*.ts: gap-free `seq` per conversation,
 * `last_seq`, `activity_at`/`last_message_at`/`updated_at` from the last message, token and cost
 * totals summed from the messages, summaries on long chats, some ratings. Then API keys for a
 * sample of users, made by the app's own createApiKey.
 *
 * Used as a library by bench/crud.ts (run that: `npx tsx bench/crud.ts --quick`).
 */

export type CrudSizes = { users: number; conversations: number; messages: number };

export type SeedReport = {
  seconds: number;
  steps: Array<{ step: string; seconds: number }>;
  rows: Record<string, number>;
  megabytes: Record<string, number>;
  longest_conversation: number;
};

const POOL_SIZE = 2_000;
const POOL_CHARS = 2_600;

const COMMON =
  "the a of to and in is that for it on with as was this be by are at from or an have not but we can which their more you your how what why when should could would will use using example code function data file error value table query index server request response model answer question context because however also then first second step result test page user message".split(
    " ",
  );

/** Chat-like filler text: common words and a long tail of rarer ones (Zipf-like), as chats have. */
function textPool(): string[] {
  const next = random(9_301);
  const syllables = ["ka", "lo", "mi", "ren", "tas", "vo", "qui", "del", "sor", "pha", "nu", "gri", "bel", "tor", "xen", "ul"];
  const rare = Array.from({ length: 6_000 }, () => {
    const n = 2 + Math.floor(next() * 3);
    return Array.from({ length: n }, () => syllables[Math.floor(next() * syllables.length)]).join("");
  });
  const word = () => (next() < 0.6 ? COMMON[Math.floor(next() * COMMON.length)]! : rare[Math.floor(rare.length * next() ** 2.5)]!);
  return Array.from({ length: POOL_SIZE }, () => {
    let text = "";
    let sentence = 0;
    while (text.length < POOL_CHARS) {
      text += (sentence === 0 && text ? "" : " ") + word();
      if (++sentence > 8 + next() * 14) {
        text += next() < 0.25 ? ".\n\n" : ".";
        sentence = 0;
      }
    }
    return text.trimStart();
  });
}

/**
 * A fresh scratch database with the app's migrations, seeded with `sizes`. The app's database
 * module stays open in this process (pointed at `url`, under `instanceId`) for what the caller
 * writes next with the app's own queries; `closeDb` closes it.
 */
export async function seedScratchDatabase(
  url: string,
  sizes: CrudSizes,
  app: { secret: string; instanceId: string },
  log: (m: string) => void,
): Promise<{ seed: SeedReport; closeDb: () => Promise<void> }> {
  await recreateDatabase(url);
  Object.assign(process.env, { DATABASE_URL: url, AUTH_SECRET: app.secret, REDIS_URL: "", LOG_LEVEL: "warn", INSTANCE_ID: app.instanceId });
  const { getHandle, closeDb } = await import("../../lib/db/client");
  const { hashPassword } = await import("../../lib/auth/password");
  await getHandle(); // the app's migrations
  log(`seeding ${sizes.users} users / ${sizes.conversations} conversations / ${sizes.messages} messages…`);
  const seed = await seedCrud(url, sizes, await hashPassword("bench password"), log);
  log(`seeded in ${seed.seconds} s (${seed.megabytes.database} MB)`);
  return { seed, closeDb };
}

/**
 * Seeds `sizes` into a migrated, empty database. Secondary indexes of messages and conversations
 * are dropped for the load and recreated from their own definitions (pg_indexes), and foreign-key
 * triggers are skipped (session_replication_role = replica): the rows are consistent by
 * construction. Ends with VACUUM ANALYZE.
 */
export async function seedCrud(url: string, sizes: CrudSizes, passwordHash: string, log: (m: string) => void): Promise<SeedReport> {
  if (sizes.messages < 2 * sizes.conversations || sizes.conversations < sizes.users) {
    throw new Error("sizes: at least one conversation per user and two messages per conversation");
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const steps: SeedReport["steps"] = [];
  const begun = performance.now();
  const step = async (name: string, sql: string, values: unknown[] = []) => {
    const t0 = performance.now();
    await db.query(sql, values);
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    steps.push({ step: name, seconds });
    log(`  ${name}: ${seconds} s`);
  };
  try {
    await db.query("set session_replication_role = replica");
    await db.query("set maintenance_work_mem = '512MB'");
    await db.query("set work_mem = '128MB'");
    await db.query("set synchronous_commit = off");
    const { rows: indexes } = await db.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes
       where schemaname = 'public' and tablename in ('conversations', 'messages') and indexname not like '%\\_pkey'`,
    );
    for (const index of indexes) await db.query(`drop index "${index.indexname}"`);

    await step("text pool", `create temp table seed_text as select i::int as idx, body from unnest($1::text[]) with ordinality as t(body, i)`, [textPool()]);
    await db.query("create unique index on seed_text (idx)");

    await step(
      "users",
      `insert into users (id, email, name, password_hash, created_at)
       select gen_random_uuid(), 'crud-' || i || '@example.test', 'Bench User ' || i, $2,
              now() - interval '400 days' + i * interval '1 minute'
       from generate_series(1, $1::int) as i order by i`,
      [sizes.users, passwordHash],
    );
    await db.query("create temp table seed_users as select row_number() over (order by created_at)::int as idx, id from users");
    await db.query("create unique index on seed_users (idx)");

    // Conversations: every user has one; the rest go to users on a skew (a few heavy users).
    // Lengths: most chats short (exponential), 1 % long (60–300 messages); scaled to the total.
    await step(
      "conversation plan",
      `create temp table seed_convs as
       with raw as (
         select j as idx, gen_random_uuid() as id,
                case when j <= $1 then j else 1 + floor($1 * power(random(), 2))::int end as user_idx,
                case when j % 100 = 0 then 60 + random() * 240 else 2 - 6 * ln(1 - random()) end as weight,
                now() - interval '1 day' - random() * interval '365 days' as created_at,
                random() < 0.05 as archived, random() < 0.03 as pinned
         from generate_series(1, $2::int) as j
       )
       select r.idx, r.id, u.id as user_id, r.weight, r.created_at, r.archived, r.pinned,
              greatest(2, 2 * round(r.weight * $3 / (2 * sum(r.weight) over ())))::int as n
       from raw r join seed_users u on u.idx = r.user_idx`,
      [sizes.users, sizes.conversations, sizes.messages],
    );
    // Exactly `messages` in all: the rounding difference is spread, two messages each, over the longest chats.
    await db.query(
      `with d as (select $1::int - sum(n)::int as diff from seed_convs),
            ranked as (select idx, row_number() over (order by n desc, idx) as r from seed_convs)
       update seed_convs c
       set n = c.n + (case when d.diff < 0 then -1 else 1 end) * (case when r.r <= abs(d.diff) / 2 then 2 else 0 end + case when r.r = 1 then abs(d.diff) % 2 else 0 end)
       from ranked r, d where r.idx = c.idx and d.diff <> 0 and r.r <= greatest(abs(d.diff) / 2, 1)`,
      [sizes.messages],
    );
    const check = await db.query<{ total: string; least: number }>("select sum(n) as total, min(n) as least from seed_convs");
    if (Number(check.rows[0]!.total) !== sizes.messages || check.rows[0]!.least < 2) throw new Error(`message plan is off: ${JSON.stringify(check.rows[0])}`);
    await step(
      "message plan",
      `create temp table seed_msgs as
       select c.idx as conv_idx, c.id as conversation_id, s.seq,
              c.created_at + (s.seq * 45 + random() * 30) * interval '1 second' as created_at
       from seed_convs c cross join lateral generate_series(1, c.n) as s(seq)
       order by 4`,
    );

    // In time order, as a live system writes them (a chat's messages are not physically adjacent).
    await step(
      "messages",
      `insert into messages (conversation_id, seq, role, content, parts, status, provider, model, prompt_tokens,
         completion_tokens, cached_tokens, usage_estimated, cost_usd, token_count, token_family, latency_ms, ttft_ms,
         finish_reason, created_at, updated_at)
       select k.conversation_id, k.seq, x.role,
              substr((select body from seed_text where idx = 1 + (k.conv_idx * 7919 + k.seq * 104729) % ${POOL_SIZE}), x.off, x.len),
              case when x.assistant then jsonb_build_array(jsonb_build_object('type', 'context', 'tokens', x.prompt, 'window', 128000,
                'summaryThroughSeq', null, 'includedFromSeq', 1, 'omittedMessages', 0, 'truncated', false)) else '[]'::jsonb end,
              'complete',
              case when x.assistant then 'openai' end, case when x.assistant then 'gpt-4o-mini' end,
              case when x.assistant then x.prompt end, case when x.assistant then x.tokens end,
              case when x.assistant then 0 end, false,
              case when x.assistant then round((x.prompt * 0.00000015 + x.tokens * 0.0000006)::numeric, 8) end,
              x.tokens, 'o200k',
              case when x.assistant then 600 + (random() * 5000)::int end, case when x.assistant then 150 + (random() * 700)::int end,
              case when x.assistant then 'stop' end,
              k.created_at, k.created_at
       from seed_msgs k
       cross join lateral (
         select k.seq % 2 = 0 as assistant,
                case when k.seq % 2 = 0 then 'assistant' else 'user' end as role,
                1 + (random() * 200)::int as off,
                case when k.seq % 2 = 0 then 150 + (random() * 1800)::int else 15 + (power(random(), 2) * 600)::int end as len,
                least(150 + k.seq * 160, 12000) as prompt
       ) x0
       cross join lateral (select x0.*, ceil(x0.len / 4.2)::int as tokens) x`,
    );

    await step(
      "conversations",
      `insert into conversations (id, user_id, title, mode, model, pinned, archived, last_seq, total_tokens, total_cost_usd,
         summary, summary_through_seq, summary_tokens, summary_updated_at, created_at, updated_at, activity_at, last_message_at)
       select c.id, c.user_id,
              initcap(trim(substr(t.body, 1 + (c.idx % 300), 18 + c.idx % 40))), 'open', 'openai:gpt-4o-mini', c.pinned, c.archived,
              a.last_seq, a.tokens, a.cost,
              case when a.last_seq > 40 then 'Summary of the earlier conversation: ' || substr(t.body, 1, 900) end,
              case when a.last_seq > 40 then a.last_seq - 20 end,
              case when a.last_seq > 40 then 230 end,
              case when a.last_seq > 40 then a.last_at end,
              c.created_at, a.last_at, a.last_at, a.last_at
       from seed_convs c
       join seed_text t on t.idx = 1 + c.idx % ${POOL_SIZE}
       join (
         select conversation_id, max(seq) as last_seq, max(created_at) as last_at,
                sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0))::int as tokens, coalesce(sum(cost_usd), 0) as cost
         from messages group by conversation_id
       ) a on a.conversation_id = c.id
       order by c.created_at`,
    );

    await step(
      "feedback",
      `insert into message_feedback (message_id, user_id, rating, comment, created_at, updated_at)
       select m.id, c.user_id, case when random() < 0.8 then 'up' else 'down' end, null, m.created_at, m.created_at
       from messages m join seed_convs c on c.id = m.conversation_id
       where m.role = 'assistant' and random() < 0.03`,
    );

    for (const index of indexes) await step(`index ${index.indexname}`, index.indexdef);
    await db.query("set session_replication_role = origin");
    await step("vacuum analyze", "vacuum (analyze) users, conversations, messages, message_feedback");

    const counts = await db.query<Record<string, string>>(
      `select (select count(*) from users) as users, (select count(*) from conversations) as conversations,
              (select count(*) from messages) as messages, (select count(*) from message_feedback) as feedback`,
    );
    const sizesMb = await db.query<Record<string, string>>(
      `select pg_total_relation_size('messages') / 1048576 as messages, pg_total_relation_size('conversations') / 1048576 as conversations,
              pg_database_size(current_database()) / 1048576 as database`,
    );
    const longest = await db.query<{ n: number }>("select max(last_seq)::int as n from conversations");
    return {
      seconds: Math.round((performance.now() - begun) / 100) / 10,
      steps,
      rows: Object.fromEntries(Object.entries(counts.rows[0]!).map(([k, v]) => [k, Number(v)])),
      megabytes: Object.fromEntries(Object.entries(sizesMb.rows[0]!).map(([k, v]) => [k, Number(v)])),
      longest_conversation: longest.rows[0]!.n,
    };
  } finally {
    await db.end();
  }
}

/**
 * API keys for `count` random users (the app's createApiKey, so the hash is the app's), each with
 * that user's conversations and cursors into their middle (the app's encodeCursor: what a client
 * holds after paging to there). Call after pointing DATABASE_URL at the seeded database.
 */
export async function createTargets(url: string, count: number): Promise<TargetsFile> {
  const { createApiKey } = await import("../../lib/db/queries/api-keys");
  const { encodeCursor } = await import("../../lib/api/pagination");
  const { messagesCursorScope } = await import("../../lib/db/queries/messages");
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ user_id: string; ids: string[]; seqs: number[] }>(
      `select c.user_id, array_agg(c.id order by c.id) as ids, array_agg(c.last_seq order by c.id) as seqs
       from (select id from users order by random() limit $1) u join conversations c on c.user_id = u.id
       group by c.user_id`,
      [count],
    );
    const keys: TargetsFile["keys"] = [];
    for (let i = 0; i < rows.length; i += 20) {
      const batch = rows.slice(i, i + 20);
      const made = await Promise.all(
        batch.map((r) => createApiKey({ userId: r.user_id, name: "crud bench", scopes: ["conversations:read"], expiresAt: null })),
      );
      for (const [j, r] of batch.entries()) {
        const conversations = await Promise.all(
          r.ids.map(async (id, k) => {
            const lastSeq = r.seqs[k]!;
            const middle = Math.floor(lastSeq / 2);
            const scope = messagesCursorScope({ userId: r.user_id, conversationId: id });
            return { id, lastSeq, ascCursor: await encodeCursor({ seq: middle }, scope), descCursor: await encodeCursor({ seq: middle + 1, order: "desc" }, scope) };
          }),
        );
        keys.push({ key: made[j]!.key, conversations });
      }
    }
    return { keys };
  } finally {
    await db.end();
  }
}
