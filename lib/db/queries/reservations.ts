import { sql } from "drizzle-orm";
import { arrayLiteral, getDb, rowsOf, type Executor } from "../client";

/**
 * Budget reservations: a model call's estimated spend held on its payers' counter rows
 * (`usage_counters.reserved_*`) while it runs, with a `usage_reservations` row saying what to give
 * back. Each function is one statement, so checking and holding cannot be split by another
 * instance: the check reads the counter row it updates, under that row's lock. Every statement
 * locks a payer's rows in one order (subject, then day), so two calls of one payer cannot deadlock.
 */

export type HeldSubject = { subject: string; tokensPerDay: number; usdPerMonth: number };

export type ReserveInput = {
  id: string;
  userId: string;
  /** Only subjects with a limit: the others need nothing held. */
  subjects: HeldSubject[];
  day: string;
  monthStart: string;
  tokens: number;
  costUsd: number;
  expiresAt: Date;
};

/**
 * Adds the reservation to every subject's counter row for `day` if each still has room — tokens
 * used and held today below its daily limit, dollars spent and held this month below its monthly
 * one — and records it. Room is checked before the reservation is added, so the call that crosses
 * a limit goes ahead: overshoot is bounded by one reservation. Returns the subjects whose rows
 * took it; the reservation exists only if all did (the caller gives back a partial hold).
 */
export async function reserveSpend(input: ReserveInput): Promise<{ held: boolean; bumped: string[] }> {
  const db = await getDb();
  const subjects = arrayLiteral(input.subjects.map((s) => s.subject));
  const tokenLimits = arrayLiteral(input.subjects.map((s) => s.tokensPerDay));
  const usdLimits = arrayLiteral(input.subjects.map((s) => s.usdPerMonth));
  // Earlier days of the month are closed (spend lands on the day it is recorded), so reading them
  // from the statement's snapshot is exact; today's row is read under its lock (ON CONFLICT).
  const result = await db.execute(sql`
    with wanted (subject, tok_limit, usd_limit) as (
      select * from unnest(${subjects}::text[], ${tokenLimits}::int[], ${usdLimits}::float8[])
    ),
    earlier as (
      select c.subject, sum(c.cost_usd + c.reserved_usd)::float8 as usd
      from usage_counters c
      where c.subject = any(${subjects}::text[]) and c.day >= ${input.monthStart}::date and c.day < ${input.day}::date
      group by c.subject
    ),
    bumped as (
      insert into usage_counters as c (subject, day, user_id, tokens, cost_usd, reserved_tokens, reserved_usd)
      select w.subject, ${input.day}::date, ${input.userId}::uuid, 0, 0, ${input.tokens}::int, ${input.costUsd}::numeric
      from wanted w left join earlier e on e.subject = w.subject
      where w.usd_limit = 0 or coalesce(e.usd, 0) < w.usd_limit
      order by w.subject
      on conflict (subject, day) do update set
        reserved_tokens = c.reserved_tokens + excluded.reserved_tokens,
        reserved_usd = c.reserved_usd + excluded.reserved_usd
      where (
        select (w.tok_limit = 0 or c.tokens + c.reserved_tokens < w.tok_limit)
          and (w.usd_limit = 0 or coalesce((select e.usd from earlier e where e.subject = c.subject), 0) + c.cost_usd + c.reserved_usd < w.usd_limit)
        from wanted w where w.subject = c.subject
      )
      returning c.subject
    ),
    held as (
      insert into usage_reservations (id, user_id, subjects, day, tokens, cost_usd, expires_at)
      select ${input.id}::uuid, ${input.userId}::uuid, ${subjects}::text[], ${input.day}::date, ${input.tokens}::int, ${input.costUsd}::numeric, ${input.expiresAt.toISOString()}::timestamptz
      where (select count(*) from bumped) = ${input.subjects.length}
      returning id
    )
    select coalesce((select array_agg(subject) from bumped), '{}') as bumped, exists (select 1 from held) as held`);
  const [row] = rowsOf<{ bumped: string[] | string; held: boolean }>(result);
  return { held: Boolean(row?.held), bumped: parseTextArray(row?.bumped) };
}

/** node-postgres parses text[] into an array; be safe about a driver that hands back the literal. */
function parseTextArray(value: string[] | string | undefined): string[] {
  if (Array.isArray(value)) return value;
  if (!value || value === "{}") return [];
  return value.replace(/^\{|\}$/g, "").split(",").map((s) => s.replace(/^"|"$/g, ""));
}

/** Takes back a partial hold (some subjects had room, another did not). */
export async function unholdSpend(input: { subjects: string[]; day: string; tokens: number; costUsd: number }): Promise<void> {
  if (input.subjects.length === 0) return;
  const db = await getDb();
  await db.execute(sql`
    with locked as (
      select subject from usage_counters
      where subject = any(${arrayLiteral(input.subjects)}::text[]) and day = ${input.day}::date
      order by subject for update
    )
    update usage_counters c set
      reserved_tokens = greatest(0, c.reserved_tokens - ${input.tokens}::int),
      reserved_usd = greatest(0, c.reserved_usd - ${input.costUsd}::numeric)
    from locked where c.subject = locked.subject and c.day = ${input.day}::date`);
}

/** Changes a reservation's amount (the exact request is known once it is assembled). */
export async function resizeReservation(input: { id: string; tokens: number; costUsd: number; deltaTokens: number; deltaUsd: number }): Promise<void> {
  const db = await getDb();
  await db.execute(sql`
    with r as (
      update usage_reservations set tokens = ${input.tokens}::int, cost_usd = ${input.costUsd}::numeric
      where id = ${input.id}::uuid returning subjects, day
    ),
    locked as (
      select c.subject, c.day from usage_counters c join r on c.subject = any(r.subjects) and c.day = r.day
      order by c.subject for update of c
    )
    update usage_counters c set
      reserved_tokens = greatest(0, c.reserved_tokens + ${input.deltaTokens}::int),
      reserved_usd = greatest(0, c.reserved_usd + ${input.deltaUsd}::numeric)
    from locked where c.subject = locked.subject and c.day = locked.day`);
}

/**
 * Records spend on `day` for `subjects` and, in the same statement, gives back reservation `id`
 * if it still exists (a second settle, or one after it expired, gives back nothing).
 */
export async function settleSpend(
  tx: Executor,
  input: { reservationId: string; userId: string; subjects: string[]; day: string; tokens: number; costUsd: number },
): Promise<void> {
  await tx.execute(sql`
    with held as (
      delete from usage_reservations where id = ${input.reservationId}::uuid returning subjects, day, tokens, cost_usd
    ),
    deltas (subject, day, tokens, cost_usd, r_tokens, r_usd) as (
      select s, ${input.day}::date, ${input.tokens}::int, ${input.costUsd}::numeric, 0, 0::numeric
      from unnest(${arrayLiteral(input.subjects)}::text[]) as s
      union all
      select s, h.day, 0, 0::numeric, h.tokens, h.cost_usd from held h cross join lateral unnest(h.subjects) as s
    ),
    merged as (
      select subject, day, sum(tokens)::int as tokens, sum(cost_usd) as cost_usd, sum(r_tokens)::int as r_tokens, sum(r_usd) as r_usd
      from deltas group by subject, day
    )
    insert into usage_counters as c (subject, day, user_id, tokens, cost_usd, reserved_tokens, reserved_usd)
    select subject, day, ${input.userId}::uuid, tokens, cost_usd, -r_tokens, -r_usd from merged
    where tokens <> 0 or cost_usd <> 0 or r_tokens <> 0 or r_usd <> 0
    order by subject, day
    on conflict (subject, day) do update set
      tokens = c.tokens + excluded.tokens,
      cost_usd = c.cost_usd + excluded.cost_usd,
      reserved_tokens = greatest(0, c.reserved_tokens + excluded.reserved_tokens),
      reserved_usd = greatest(0, c.reserved_usd + excluded.reserved_usd)`);
}

/**
 * Gives back every reservation whose holder should long have settled it (a process that died
 * mid-call). Returns how many there were.
 */
export async function expireReservations(now: Date): Promise<number> {
  const db = await getDb();
  const result = await db.execute(sql`
    with gone as (
      delete from usage_reservations where expires_at <= ${now.toISOString()}::timestamptz returning subjects, day, tokens, cost_usd
    ),
    per as (
      select s as subject, g.day, sum(g.tokens)::int as tokens, sum(g.cost_usd) as usd
      from gone g cross join lateral unnest(g.subjects) as s group by s, g.day
    ),
    locked as (
      select c.subject, c.day from usage_counters c join per on c.subject = per.subject and c.day = per.day
      order by c.subject, c.day for update of c
    ),
    given as (
      update usage_counters c set
        reserved_tokens = greatest(0, c.reserved_tokens - per.tokens),
        reserved_usd = greatest(0, c.reserved_usd - per.usd)
      from per join locked using (subject, day) where c.subject = per.subject and c.day = per.day
      returning 1
    )
    select (select count(*) from gone)::int as expired, (select count(*) from given)::int as given`);
  return Number(rowsOf<{ expired: number }>(result)[0]?.expired ?? 0);
}
