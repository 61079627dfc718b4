import type Database from 'better-sqlite3';

/**
 * The store's write queue (sqlite-writes.ts) as the webhook, file and version stores use it: a
 * custom write joins the next group commit of edits, so it shares their fsync. Declared here
 * rather than imported: sqlite-writes.ts imports these stores.
 */
export interface CustomWrites {
  run(write: { op: 'custom'; run: () => null }): Promise<unknown>;
  runSoon(write: { op: 'custom'; run: () => null }, maxDelayMs: number): Promise<unknown>;
}

/**
 * Runs `fn` in the write queue's next group commit, in a savepoint of its own (a failing write
 * rolls back alone and never takes the appends of its batch with it), and returns what `fn`
 * returned. `joinWithinMs`: wait up to this long for a commit of edits to join instead of
 * starting one at once. `what` names the write in the error if the queue never ran it.
 */
export async function inSavepoint<T>(
  db: Database.Database,
  writes: Pick<CustomWrites, 'run'> & Partial<Pick<CustomWrites, 'runSoon'>>,
  what: string,
  fn: () => T,
  joinWithinMs?: number,
): Promise<T> {
  const savepoint = db.transaction(fn);
  let result: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
  const op = {
    op: 'custom' as const,
    run: () => {
      try {
        result = { ok: true, value: savepoint() };
      } catch (error) {
        result = { ok: false, error };
      }
      return null;
    },
  };
  await (joinWithinMs !== undefined && writes.runSoon ? writes.runSoon(op, joinWithinMs) : writes.run(op));
  const settled = result as { ok: true; value: T } | { ok: false; error: unknown } | null;
  if (!settled) throw new Error(`${what} did not run`);
  if (!settled.ok) throw settled.error;
  return settled.value;
}
