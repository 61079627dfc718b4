import type { Connection } from './connection.js';

/**
 * Why a transaction happened on a room's Y.Doc: the one union every listener switches on.
 * Origins are made only by the functions below and recognised by `isTransactionOrigin` (a
 * registry, not a property test), so a value from elsewhere is never mistaken for one.
 */
export type TransactionOrigin =
  /** Already committed to storage: read back at load, or committed by another instance. */
  | { readonly kind: 'committed' }
  /** A change the server makes itself (e.g. a title set through the API). */
  | { readonly kind: 'server' }
  /** A client's update; relayed to everyone but that connection. */
  | { readonly kind: 'client'; readonly connection: Connection }
  /**
   * A client's update that may complete content Yjs held back (pending): the transaction can then
   * also hold other clients' items, so the batch is relayed to the sender too.
   */
  | { readonly kind: 'completing-pending'; readonly connection: Connection };

/** Who changed awareness states: a connection of this instance, or another instance (by id). */
export type AwarenessOrigin = { readonly kind: 'connection'; readonly connection: Connection } | { readonly kind: 'instance'; readonly instanceId: string };

const transactionOrigins = new WeakSet<object>();
const awarenessOrigins = new WeakSet<object>();
function register<T extends TransactionOrigin>(origin: T): T {
  transactionOrigins.add(origin);
  return origin;
}
function registerAwareness<T extends AwarenessOrigin>(origin: T): T {
  awarenessOrigins.add(origin);
  return origin;
}

export const COMMITTED_ORIGIN: TransactionOrigin = register({ kind: 'committed' });
export const SERVER_ORIGIN: TransactionOrigin = register({ kind: 'server' });

const clientOrigins = new WeakMap<Connection, TransactionOrigin>();
/** The origin of a connection's updates (one object per connection). */
export function clientOrigin(connection: Connection): TransactionOrigin {
  let origin = clientOrigins.get(connection);
  if (!origin) clientOrigins.set(connection, (origin = register({ kind: 'client', connection })));
  return origin;
}

export function completingPendingOrigin(connection: Connection): TransactionOrigin {
  return register({ kind: 'completing-pending', connection });
}

const connectionAwareness = new WeakMap<Connection, AwarenessOrigin>();
export function connectionAwarenessOrigin(connection: Connection): AwarenessOrigin {
  let origin = connectionAwareness.get(connection);
  if (!origin) connectionAwareness.set(connection, (origin = registerAwareness({ kind: 'connection', connection })));
  return origin;
}

export function instanceAwarenessOrigin(instanceId: string): AwarenessOrigin {
  return registerAwareness({ kind: 'instance', instanceId });
}

export function isTransactionOrigin(value: unknown): value is TransactionOrigin {
  return typeof value === 'object' && value !== null && transactionOrigins.has(value);
}

export function isAwarenessOrigin(value: unknown): value is AwarenessOrigin {
  return typeof value === 'object' && value !== null && awarenessOrigins.has(value);
}
