import { z } from "zod";
import { isUuid } from "@/lib/api/pagination";

/** A command: its flags come in, its exit code goes out (0 done, 1 failed, 2 bad arguments). */
export type Command = (args: string[]) => Promise<number>;

/** Prints a result: one JSON value on stdout. */
export function print(value: unknown): void {
  console.log(JSON.stringify(value));
}

export function invalid(error: z.ZodError): number {
  console.error(error.issues.map((i) => i.message).join("\n"));
  return 2;
}

export const userArg = z
  .string("--user <email|id> is required")
  .refine((v) => isUuid(v) || z.email().safeParse(v.trim()).success, "--user must be an email address or a user id");

export const isoOrNull = (date: Date | null) => date?.toISOString() ?? null;
