/**
 * Crash-safe file replacement: write a temp file in the destination's directory, fsync it,
 * rename it over the destination, fsync the directory. A reader (or a crash) sees either the
 * old file or the complete new one, never a half-written file.
 */
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

let counter = 0;

/** Name of the temp file used while `path` is being written (starts with `.` and ends with `.tmp`). */
export function tempPathFor(path: string): string {
  const abs = resolve(path);
  counter = (counter + 1) % 0x7fffffff;
  const stamp = process.hrtime.bigint().toString(36);
  return join(dirname(abs), `.${basename(abs)}.${process.pid}.${counter.toString(36)}${stamp}.tmp`);
}

/** Options of the writers that replace a file atomically (write to a temporary file, then rename). */
export interface AtomicWriteOptions {
  /** fsync the file before the rename and the directory after it (default true). */
  fsync?: boolean;
}

/**
 * Writes `chunks` to `path` atomically. If anything fails (a chunk source throws, the disk is full,
 * the rename is refused) the temp file is removed, the previous content of `path` is untouched,
 * and the error is rethrown.
 */
export async function writeFileAtomic(
  path: string,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const doSync = opts.fsync !== false;
  const abs = resolve(path);
  const tmp = tempPathFor(abs);
  const fh = await open(tmp, 'wx', 0o644);
  let closed = false;
  let renamed = false;
  try {
    for await (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) {
        const len = Math.min(chunk.byteLength - off, 1 << 30);
        const { bytesWritten } = await fh.write(chunk, off, len, null);
        off += bytesWritten;
      }
    }
    if (doSync) await fh.sync();
    closed = true;
    await fh.close();
    await rename(tmp, abs);
    renamed = true;
  } finally {
    if (!closed) await fh.close().catch(() => undefined);
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
  if (doSync) await syncDir(dirname(abs));
  await removeOrphanTemps(abs);
}

/** Whether a process with this id is running (EPERM: it exists under another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes temp files that saves of `path` killed mid-write (SIGKILL, power loss) left behind.
 * Safe with concurrent writers: a temp file is removed only when the process id in its name is
 * not ours and no process with that id is alive, so an in-flight save (ours or another live
 * process's) is never touched. Returns the names removed; failures are ignored (best effort).
 */
export async function removeOrphanTemps(path: string): Promise<string[]> {
  const abs = resolve(path);
  const prefix = `.${basename(abs)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(abs));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[0-9a-z]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      await unlink(join(dirname(abs), name));
      removed.push(name);
    } catch {
      // already gone, or not ours to remove
    }
  }
  return removed;
}

/** fsync a directory so a rename in it is durable; silently skipped where unsupported (Windows). */
async function syncDir(dir: string): Promise<void> {
  let dh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    dh = await open(dir, 'r');
    await dh.sync();
  } catch {
    // not supported on this platform / filesystem: the rename itself is still atomic
  } finally {
    await dh?.close().catch(() => undefined);
  }
}
