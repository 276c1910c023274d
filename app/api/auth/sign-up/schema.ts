import { z } from "zod";

export const signUpSchema = z.strictObject({
  email: z.email().max(320),
  password: z.string().min(8, "must be at least 8 characters").max(1024),
  name: z.string().trim().max(100).optional(),
});
