import { z } from "zod";

// Years 1970–9999, said as a pattern so the OpenAPI document states the rule the server applies.
const instant = () =>
  z.iso
    .datetime({ offset: true })
    .regex(/^(19[7-9]\d|[2-9]\d{3})-/, "must be between 1970 and 9999")
    .meta({ format: "date-time" });

const notAfter = (from: string, to: string | undefined) => Date.parse(from) <= (to ? Date.parse(to) : Date.now());

export const usageQuerySchema = z
  .strictObject({
    from: instant().optional().describe("Start of the window (inclusive); default: 30 days before `to`. Must not be after `to` (or now)"),
    to: instant().optional().describe("End of the window; default: now"),
    group_by: z.enum(["day", "model"]).default("day"),
  })
  .refine((q) => !q.from || notAfter(q.from, q.to), { message: "from must not be after to (or, without to, after now)", path: ["from"] });
