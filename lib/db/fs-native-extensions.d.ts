// fs-native-extensions ships no types; this is the one function lib/db/data-dir.ts uses.
declare module "fs-native-extensions" {
  /** Takes an exclusive lock on the open file without waiting; false when another holder has it. */
  export function tryLock(fd: number): boolean;
}
