/**
 * The webhook part of the storage contract: the outbox of deliveries and, per document, the mark
 * of changes not yet told to anyone. Both backends keep them in the same database as the
 * documents; the mark is written by `append` and `create` in the same transaction as the change
 * itself, so no committed change can be left without an event, whenever the process dies. While no
 * endpoint exists nobody is to be told, and no mark is written (an endpoint hears of the changes
 * committed after it was saved).
 * Every backend passes tests/integration/storage-contract.ts, these methods included.
 */

/**
 * Changes of one document since its last event: written (or kept) by every append and create,
 * removed when the events describing them are enqueued. `firstSeq` is the first append's sequence
 * number (0 when a create opened the mark); `created` says an append or create of the batch
 * created the document and no document.created event has been enqueued for it yet.
 */
export interface ChangeMark {
  document: string;
  created: boolean;
  firstSeq: number;
  /** Milliseconds since the epoch, of the write that opened the mark. */
  openedAt: number;
}

/** The document as it is when the events are built; null if it no longer exists. */
export interface DocumentHead {
  seq: number;
  title: string;
}

/** One event to deliver to each of `endpointIds` (one outbox row per endpoint). */
export interface OutboxEvent {
  /** Stable across retries: the `webhook-id` header. */
  id: string;
  type: string;
  document: string;
  /** The exact body sent (JSON). */
  payload: string;
  endpointIds: readonly string[];
  createdAt: number;
}

/** Builds the events for a mark, inside the transaction that removes or updates it. */
export type EventBuilder = (mark: ChangeMark, head: DocumentHead | null) => OutboxEvent[];

export interface WebhookEndpointRecord {
  id: string;
  url: string;
  /** `whsec_...`; stored as is, since every attempt is signed with it. */
  secret: string;
  events: string[];
  /** Document patterns (`team/*`, `*`). */
  documents: string[];
  createdAt: number;
  /** When the current unbroken run of failed attempts began; null after a success. */
  failingSince: number | null;
  disabledAt: number | null;
  disabledReason: string | null;
}

/** A due delivery leased to one instance for `leaseMs`, with its endpoint's address and secret. */
export interface ClaimedDelivery {
  eventId: string;
  endpointId: string;
  type: string;
  document: string;
  payload: string;
  /** Attempts made before this one. */
  attempts: number;
  createdAt: number;
  url: string;
  secret: string;
}

export interface DeliveryOutcome {
  /** delivered (2xx), pending (retry at nextAttemptAt), failed (no more attempts). */
  status: 'delivered' | 'pending' | 'failed';
  at: number;
  nextAttemptAt: number;
  httpStatus: number | null;
  error: string | null;
  /** False when an attempt was abandoned unsent (shutdown): the lease is released, nothing counted. */
  attempted: boolean;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  eventId: string;
  endpointId: string;
  type: string;
  document: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

export interface WebhookStore {
  /**
   * If the document's mark says it was created and no document.created was enqueued yet, enqueues
   * what `build` returns and clears the flag (removing the mark if no append followed the create),
   * in one transaction: exactly one caller, of any instance, gets to enqueue it. Returns the events.
   */
  takeCreated(document: string, build: EventBuilder): Promise<OutboxEvent[]>;
  /**
   * Removes the document's mark and enqueues what `build` returns, in one transaction. No mark:
   * nothing to do (another instance or the sweep told these changes already), returns [].
   */
  closeChanges(document: string, build: EventBuilder): Promise<OutboxEvent[]>;
  /** Documents whose mark is older than `openedBefore` (their writer's timer should have closed them). */
  staleChanges(openedBefore: number, limit: number): Promise<string[]>;
  /** Enqueues events that describe no change mark (deletions, presence); `dropChangesOf` removes that document's mark in the same transaction. */
  enqueue(events: readonly OutboxEvent[], options?: { dropChangesOf?: string }): Promise<void>;
  /**
   * Leases up to `limit` due deliveries of enabled endpoints (not of `skipEndpoints`) to `owner`
   * until now + leaseMs. A lease another instance holds is skipped until it expires (that instance
   * may have died); on PostgreSQL, rows another instance is claiming this instant are skipped too.
   */
  claim(owner: string, now: number, leaseMs: number, limit: number, skipEndpoints: readonly string[]): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt's outcome if `owner` still holds the lease (else returns null: the lease
   * expired and another instance took the delivery over). Also tracks the endpoint's failing run;
   * returns its `failingSince` after this outcome.
   */
  settle(eventId: string, endpointId: string, owner: string, outcome: DeliveryOutcome): Promise<{ failingSince: number | null } | null>;
  /** Inserts or replaces an endpoint. */
  saveEndpoint(endpoint: WebhookEndpointRecord): Promise<void>;
  listEndpoints(): Promise<WebhookEndpointRecord[]>;
  /** Removes an endpoint and its deliveries; false if there was none. */
  deleteEndpoint(id: string): Promise<boolean>;
  /** Disables an endpoint; its pending deliveries become failed with `reason`. False if none or already disabled. */
  disableEndpoint(id: string, reason: string, at: number): Promise<boolean>;
  /** Enables an endpoint again (and forgets its failing run); false if there is none. */
  enableEndpoint(id: string): Promise<boolean>;
  /** An endpoint's deliveries, newest first. */
  deliveries(endpointId: string, limit: number, status?: DeliveryStatus): Promise<DeliveryRecord[]>;
  /** Pending deliveries of enabled endpoints: all, and those that failed at least once. */
  outboxStats(): Promise<{ pending: number; retrying: number }>;
  /** Deletes delivered and failed rows last touched before `before`; returns how many. */
  prune(before: number): Promise<number>;
}
