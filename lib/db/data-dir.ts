import fs from "node:fs";
import path from "node:path";
import { log } from "@/lib/log";

/**
 * The embedded database's directory: private to the server's user (the PGlite files hold password
 * hashes, API key hashes and the generated session secret) and opened by one process at a time
 * (PGlite has no server to arbitrate; two processes on one directory corrupt it).
 */

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;
const LOCK_FILE = "bot-gpt.lock";
/** What the server creates inside DATA_DIR; only these are ever chmod-ed. */
const PGLITE_SUBDIR = "pglite";

export type DataDir = {
  /** Where PGlite keeps its cluster. */
  pgliteDir: string;
  /** Tightens what PGlite created (its first start unpacks a cluster with 0666 files). */
  secure: () => void;
  /** Releases the lock (the OS also releases it when the process dies, however it dies). */
  release: () => void;
};

const modeOf = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/**
 * PGlite creates directories with the process umask, so a restrictive one keeps them private from
 * the start. Postgres itself runs under umask 0077 for the same reason. Worker threads cannot set it.
 */
function restrictUmask(): void {
  try {
    // Setting returns the old mask (reading it alone is deprecated); keep its other bits.
    const previous = process.umask(0o077);
    process.umask(previous | 0o077);
  } catch {
    // Not settable here; secure() still fixes the modes after the fact.
  }
}

/**
 * chmod the server's own files under DATA_DIR to 0700/0600. Never follows a symlink and never goes
 * above DATA_DIR: only the PGlite cluster and the lock file are touched, so a DATA_DIR pointed at
 * a shared directory by mistake does not get its other contents rewritten. Returns the paths it
 * could not change (another user's files).
 */
function tighten(target: string, failed: string[] = []): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(target);
  } catch {
    return failed;
  }
  if (stat.isSymbolicLink()) return failed;
  const wanted = stat.isDirectory() ? PRIVATE_DIR : PRIVATE_FILE;
  if ((stat.mode & 0o777) !== wanted) {
    try {
      fs.chmodSync(target, wanted);
    } catch {
      failed.push(`${target} (${modeOf(stat.mode)})`);
    }
  }
  if (stat.isDirectory()) for (const entry of fs.readdirSync(target)) tighten(path.join(target, entry), failed);
  return failed;
}

function secureTree(target: string): void {
  const failed = tighten(target);
  // One line, not one per file: a volume copied in as another user can hold thousands.
  if (failed.length > 0) {
    log.warn({ event: "data_dir_permissions", files: failed.length, first: failed[0] }, "could not make some database files private (owned by another user?)");
  }
}

/** The directory's own mode is the operator's choice (a backup group, say): say so, do not change it. */
function warnIfShared(dataDir: string): void {
  const mode = fs.statSync(dataDir).mode;
  if ((mode & 0o077) === 0) return;
  log.warn(
    { event: "data_dir_permissions", path: dataDir, mode: modeOf(mode), expected: "0700" },
    `DATA_DIR ${dataDir} is open to other users (mode ${modeOf(mode)}). The database files inside are kept private ` +
      `(0700/0600), but their names are visible; run \`chmod 700 ${dataDir}\` unless a group needs it on purpose.`,
  );
}

type LockModule = { tryLock: (fd: number) => boolean };

/** The OS file lock (fs-native-extensions: an open-file-description lock on Linux, flock on macOS). */
async function loadLockModule(): Promise<LockModule | null> {
  try {
    // A native addon, loaded at run time (next.config.ts lists it as an external package).
    const loaded: LockModule & { default?: LockModule } = await import("fs-native-extensions");
    return loaded.default ?? loaded;
  } catch (error) {
    log.warn({ err: (error as Error).message }, "no OS file lock on this platform; falling back to a pid check");
    return null;
  }
}

/** A process that is gone or a zombie (killed, not yet reaped by its parent) holds nothing. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // Field 3 of /proc/<pid>/stat, after the parenthesised command name (which may hold spaces).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true; // no /proc (macOS): the signal check is all there is
  }
}

function inUse(dataDir: string, holder: string): Error {
  return new Error(
    `The embedded database in ${dataDir} is in use by process ${holder || "(unknown)"}. ` +
      "Stop that process first, or set DATABASE_URL to share a Postgres server.",
  );
}

/**
 * Holds DATA_DIR/bot-gpt.lock for the life of the process. The lock is the kernel's: it goes when
 * the process's files are closed, which happens when it dies — before its parent reaps it — so a
 * supervisor restarting a killed server at once gets in. The file holds the pid for the message.
 */
async function lockDataDir(dataDir: string): Promise<() => void> {
  const lockPath = path.join(dataDir, LOCK_FILE);
  const locks = await loadLockModule();
  const fd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, PRIVATE_FILE);
  const holder = () => fs.readFileSync(lockPath, "utf8").trim();
  try {
    if (locks) {
      if (!locks.tryLock(fd)) throw inUse(dataDir, holder());
    } else {
      const pid = Number(holder());
      if (pid && pid !== process.pid && isRunning(pid)) throw inUse(dataDir, String(pid));
    }
    fs.fchmodSync(fd, PRIVATE_FILE);
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, String(process.pid), 0);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    // Without an OS lock the pid in the file is the lock: clear it so the next start need not check.
    if (!locks) fs.ftruncateSync(fd, 0);
    fs.closeSync(fd);
  };
}

/** Creates DATA_DIR (0700) if needed, checks its mode, takes the lock and makes the server's files private. */
export async function openDataDir(dir: string): Promise<DataDir> {
  const dataDir = path.resolve(dir);
  restrictUmask();
  fs.mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  warnIfShared(dataDir);
  const release = await lockDataDir(dataDir);
  const pgliteDir = path.join(dataDir, PGLITE_SUBDIR);
  const secure = () => secureTree(pgliteDir);
  try {
    secure();
  } catch (error) {
    release();
    throw error;
  }
  return { pgliteDir, secure, release };
}
