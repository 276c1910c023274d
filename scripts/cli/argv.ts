/** Every spelling of a command's noun, singular or plural, mapped to the one the commands use. */
const nouns: Record<string, string> = {
  user: "user",
  users: "user",
  key: "key",
  keys: "key",
  "api-key": "key",
  "api-keys": "key",
  budget: "budget",
  budgets: "budget",
  document: "document",
  documents: "document",
  doc: "document",
  docs: "document",
};

/**
 * `user:create`, `users:create`, `users create` and `user create` all name one command: the
 * first word(s) become `noun:verb`, the rest are its flags.
 */
export function normalizeCommand(argv: string[]): { command: string | undefined; args: string[] } {
  const [first, second] = argv;
  if (first === undefined) return { command: undefined, args: [] };
  const colon = first.indexOf(":");
  if (colon > 0) {
    const noun = first.slice(0, colon).toLowerCase();
    return { command: `${nouns[noun] ?? noun}:${first.slice(colon + 1).toLowerCase()}`, args: argv.slice(1) };
  }
  const noun = nouns[first.toLowerCase()];
  if (noun && second !== undefined && !second.startsWith("-")) return { command: `${noun}:${second.toLowerCase()}`, args: argv.slice(2) };
  return { command: first.toLowerCase(), args: argv.slice(1) };
}
