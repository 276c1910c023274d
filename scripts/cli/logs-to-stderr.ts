import pino from "pino";
import { redirectLogs } from "@/lib/log";

// Imported second by scripts/cli.ts: the CLI prints its result as JSON on stdout, so the app's log
// lines (start-up recovery on a shared database, say) go to stderr, where scripts do not parse them.
redirectLogs(pino.destination({ dest: 2, sync: true }));
