import { z } from "zod";
import { apiKeyScopes } from "@/lib/db/schema";

export const createApiKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(apiKeyScopes)).min(1, "give the key at least one scope"),
  expires_at: z.iso
    .datetime({ offset: true })
    .refine((value) => Date.parse(value) > Date.now(), "must be in the future")
    .nullable()
    .optional(),
});
