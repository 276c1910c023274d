import { z } from "zod";

const inRange = (value: string) => {
  const year = new Date(value).getUTCFullYear();
  return year >= 1970 && year <= 9999;
};

export const usageQuerySchema = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).refine(inRange, "must be between 1970 and 9999").optional(),
    to: z.iso.datetime({ offset: true }).refine(inRange, "must be between 1970 and 9999").optional(),
    group_by: z.enum(["day", "model"]).default("day"),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: "from must be before to", path: ["from"] });
