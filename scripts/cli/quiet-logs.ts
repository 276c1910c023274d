// Imported first by scripts/cli.ts, before anything reads the environment: warnings and errors only
// unless LOG_LEVEL says otherwise (scripts/cli/logs-to-stderr.ts then moves them off stdout).
process.env.LOG_LEVEL ??= "warn";
