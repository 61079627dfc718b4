import * as Y from 'yjs';
import type { ContentRules } from '../../shared/content-rules.js';
import { UpdateStructureCheck } from '../content/update-structure.js';
import type { Connection } from './connection.js';
import { ProtocolError } from './protocol.js';

type Struct = Y.Item | Y.GC | Y.Skip;

export interface UpdateGuardOptions {
  /** The local connection that announced this client id in awareness, if any. */
  announcedBy?: (clientId: number) => Connection | undefined;
  /** The editor's fragment and its rules: content there is checked against the schema. */
  content?: { fragment: string; rules: ContentRules };
}

/** What check() learned of an update, for apply and claim. */
export interface CheckedUpdate {
  /** Client ids the update writes new content for. */
  writes: number[];
  structs: Struct[];
}

/** Writers remembered per room by subject after their connection left (oldest forgotten first). */
const MAX_REMEMBERED_WRITERS = 10_000;

/**
 * Checks a client's document update before it is applied, beyond what Y.decodeUpdate checks. Yjs
 * trusts updates; a writer could otherwise break the document for everyone:
 *
 * - An item may refer (origin, right origin, parent) to an earlier item of its own client only.
 *   Yjs does not check this; such an item makes a later update throw half-way through being applied.
 * - Structure (see UpdateStructureCheck): nesting depth is bounded everywhere, and in the editor's
 *   fragment only what the schema allows goes where it allows it, so no update can overflow a
 *   stack here or in an editor, or hold content the editor cannot show (and would then erase).
 * - A connection may not write new content as a client id that another connection of this room
 *   writes with, or that a connection that may write announced in awareness: a forged item at the
 *   clock an honest client is about to use makes the server drop that client's real edit as a
 *   duplicate, and the documents diverge. The id passes to another connection once its writer is
 *   gone, and then only to a connection of the subject that last wrote with it (the same person
 *   reconnecting). A read-only connection's announcements never count: ownership comes from
 *   writing. A server running open has one subject, "anonymous", so there ids move freely.
 * - Nor may it delete content of such a client id that the server does not have yet (Yjs would
 *   keep the deletion and apply it the moment the owner writes, erasing the owner's next edits).
 */
export class UpdateGuard {
  private readonly writers = new Map<number, Connection>();
  private readonly written = new Map<Connection, Set<number>>();
  /** The subject that last wrote with each client id, kept after its connection left. */
  private readonly lastSubject = new Map<number, string>();

  constructor(
    private readonly doc: Y.Doc,
    private readonly options: UpdateGuardOptions = {},
  ) {}

  /** Throws ProtocolError if `update` may not be applied for `connection`. */
  check(connection: Connection, update: Uint8Array): CheckedUpdate {
    let decoded: ReturnType<typeof Y.decodeUpdate>;
    try {
      decoded = Y.decodeUpdate(update);
    } catch {
      throw new ProtocolError('malformed update');
    }
    const clients = new Set<number>();
    for (const struct of decoded.structs) {
      if (struct instanceof Y.Skip) continue;
      const { client, clock } = struct.id;
      if (struct instanceof Y.Item) {
        const parent = struct.parent instanceof Y.ID ? struct.parent : null;
        for (const ref of [struct.origin, struct.rightOrigin, parent]) {
          if (ref && ref.client === client && ref.clock >= clock) throw new ProtocolError('malformed update: an item refers to a later item of its own client');
        }
      }
      if (clock + struct.length > Y.getState(this.doc.store, client)) clients.add(client);
    }
    for (const [client, deletions] of decoded.ds.clients) {
      const state = Y.getState(this.doc.store, client);
      if (deletions.some((deletion) => deletion.clock + deletion.len > state) && this.ownedByAnother(connection, client)) {
        throw new ProtocolError(`update deletes content of client ${client} that the server does not have yet`);
      }
    }
    for (const client of clients) {
      if (this.ownedByAnother(connection, client)) throw new ProtocolError(`update writes as client ${client}, which another connection writes with`);
    }
    const problem = this.structureProblem(decoded.structs);
    if (problem) throw new ProtocolError(`update refused: ${problem}`);
    return { writes: [...clients], structs: decoded.structs };
  }

  /**
   * Why the pending structs, completed by `update`'s, would not fit the document (they were
   * checked alone when they arrived, but their place was unknown then), or null.
   */
  pendingProblem(update: CheckedUpdate, pending: readonly Struct[]): string | null {
    if (pending.length === 0) return null;
    return this.structureProblem([...update.structs, ...pending]);
  }

  private structureProblem(structs: readonly Struct[]): string | null {
    const content = this.options.content;
    if (!content) return null;
    return new UpdateStructureCheck(this.doc, structs, content.fragment, content.rules).problem();
  }

  /** Records that `connection` writes with these client ids (once its update is applied). */
  claim(connection: Connection, clients: readonly number[]): void {
    for (const client of clients) {
      const previous = this.writers.get(client);
      if (previous === connection) continue;
      if (previous) this.written.get(previous)?.delete(client);
      this.writers.set(client, connection);
      this.remember(client, connection.access.subject);
      let own = this.written.get(connection);
      if (!own) this.written.set(connection, (own = new Set()));
      own.add(client);
    }
  }

  /** Forgets a connection that left (its subject stays remembered for its client ids). */
  release(connection: Connection): void {
    const own = this.written.get(connection);
    if (!own) return;
    for (const client of own) if (this.writers.get(client) === connection) this.writers.delete(client);
    this.written.delete(connection);
  }

  /** Whether `client` belongs to someone else: a live writer, a writer's announcement, or the subject that last wrote with it. */
  private ownedByAnother(connection: Connection, client: number): boolean {
    const { subject } = connection.access;
    const writer = this.writers.get(client);
    if (writer === connection) return false;
    if (writer && !writer.closed) return writer.access.subject !== subject;
    const announcer = this.options.announcedBy?.(client);
    if (announcer && announcer !== connection && !announcer.closed && announcer.access.canWrite && announcer.access.subject !== subject) return true;
    const last = this.lastSubject.get(client);
    return last !== undefined && last !== subject;
  }

  private remember(client: number, subject: string): void {
    this.lastSubject.delete(client);
    this.lastSubject.set(client, subject);
    if (this.lastSubject.size > MAX_REMEMBERED_WRITERS) this.lastSubject.delete(this.lastSubject.keys().next().value!);
  }
}
