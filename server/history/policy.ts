import type { EventBus, ServerEvent } from '../events.js';
import type { Logger } from '../logger.js';
import type { AddOutcome } from '../storage/version-store.js';
import { editorName } from '../webhooks/payload.js';
import type { Clock } from './clock.js';

export interface VersionPolicyOptions {
  intervalMs: number;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  /** True when the server runs without AUTH_SECRET: authors are named by their display names. */
  open: boolean;
  /** Whether anyone is still connected to the document on this instance. */
  hasConnections(document: string): boolean;
  /**
   * Records an automatic version of the document as it is now, with these authors; `minSpacingMs`
   * is passed to the store (see VersionStore.add). Null: the document could not be read.
   */
  record(document: string, authors: string[], minSpacingMs: number): Promise<AddOutcome | null>;
}

/** Edits of one document not yet in a version, as this instance saw them. */
interface Pending {
  authors: Set<string>;
  timer: unknown;
}

/** After a failed attempt (storage unreachable), the next one comes this much later at least. */
const RETRY_MS = 5_000;

/**
 * When to record automatic versions. Subscribes to the event bus: each commit of this instance
 * marks its document as edited (with its authors) and, if no version is due yet, schedules one
 * VERSION_INTERVAL_MS later; the last connection leaving records one at once. What a version
 * would repeat is refused by the store (same seq covered, same content, or another instance's
 * automatic version within half an interval), so instances sharing a document record each state
 * once and merge their authors into it. Costs per commit: a map lookup and a set insert.
 */
export class VersionPolicy {
  private readonly pending = new Map<string, Pending>();
  private readonly recording = new Set<Promise<unknown>>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: VersionPolicyOptions) {}

  start(): void {
    this.unsubscribe ??= this.options.events.subscribe(this.onEvent);
  }

  /** Stops listening; records every pending version now and resolves once they are stored. */
  async flush(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const document of [...this.pending.keys()]) this.recordNow(document, 0);
    while (this.recording.size > 0) await Promise.allSettled([...this.recording]);
  }

  /** The authors of the edits not yet in a version (for a version recorded outside the policy); forgets them. */
  take(document: string): string[] {
    const entry = this.pending.get(document);
    if (!entry) return [];
    this.options.clock.clearTimeout(entry.timer);
    this.pending.delete(document);
    return [...entry.authors];
  }

  /** Gives back what `take` returned when the version could not be stored. */
  putBack(document: string, authors: readonly string[]): void {
    this.edited(document, authors);
  }

  private readonly onEvent = (event: ServerEvent): void => {
    switch (event.type) {
      case 'document.committed':
        this.edited(event.document, event.authors.map((author) => editorName(author, this.options.open)));
        break;
      case 'user.left':
        if (this.pending.has(event.document) && !this.options.hasConnections(event.document)) this.recordNow(event.document, 0);
        break;
      case 'document.deleted':
        this.take(event.document);
        break;
      default:
        break;
    }
  };

  private edited(name: string, authors: Iterable<string>, dueInMs = this.options.intervalMs): void {
    let entry = this.pending.get(name);
    if (!entry) {
      entry = { authors: new Set(), timer: this.options.clock.setTimeout(() => this.recordNow(name, this.options.intervalMs / 2), dueInMs) };
      this.pending.set(name, entry);
    }
    for (const author of authors) entry.authors.add(author);
  }

  private recordNow(name: string, minSpacingMs: number): void {
    const authors = this.take(name);
    const attempt = this.options
      .record(name, authors, minSpacingMs)
      .then((outcome) => {
        // Edits committed meanwhile have an entry (and a timer) of their own.
        if (outcome?.status === 'too-soon') {
          const dueIn = Math.max(RETRY_MS, outcome.version.createdAt + this.options.intervalMs - this.options.clock.now());
          this.pushBack(name, authors, dueIn);
        }
      })
      .catch((error: unknown) => {
        this.options.logger.warn({ err: error, document: name }, 'could not record a version; trying again later');
        this.pushBack(name, authors, Math.max(RETRY_MS, this.options.intervalMs));
      });
    this.recording.add(attempt);
    void attempt.finally(() => this.recording.delete(attempt));
  }

  private pushBack(name: string, authors: readonly string[], dueInMs: number): void {
    if (this.unsubscribe === null) return; // stopped: nothing is scheduled any more
    this.edited(name, authors, dueInMs);
  }
}
