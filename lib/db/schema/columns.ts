import { customType, timestamp } from "drizzle-orm/pg-core";

/** Column helpers shared by the tables. */
export const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
};

export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

export const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

const SMALLEST_NORMAL_FLOAT32 = 2 ** -126;

/**
 * Postgres `real` (float4). A JavaScript number is a float64, and one float4 cannot hold (1e-300
 * underflows) makes Postgres fail the statement, so it is rounded to float4 on the way in; values
 * below float4's normal range become 0.
 */
export const float4 = customType<{ data: number; driverData: number | string }>({
  dataType: () => "real",
  toDriver: (value) => (Math.abs(value) < SMALLEST_NORMAL_FLOAT32 ? 0 : Math.fround(value)),
  fromDriver: (value) => Number(value),
});
