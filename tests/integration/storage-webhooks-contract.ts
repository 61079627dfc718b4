/**
 * The webhook part of the storage contract (server/storage/webhook-store.ts), run by
 * describeStoreContract on every backend: change marks written with the commits, the outbox,
 * leases between instances.
 */
import { describe, expect, it } from 'vitest';
import type { OutboxEvent, WebhookEndpointRecord } from '../../server/storage/webhook-store.js';
import type { DocumentStore } from '../../server/storage/types.js';

const bytes = (s: string) => new TextEncoder().encode(s);

const endpoint = (id: string): WebhookEndpointRecord => ({
  id,
  url: `https://hooks.example.com/${id}`,
  secret: 'whsec_c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ==',
  events: ['document.updated'],
  documents: ['*'],
  createdAt: 1_000,
  failingSince: null,
  disabledAt: null,
  disabledReason: null,
});

const event = (id: string, endpointIds: string[], createdAt = 1_000): OutboxEvent => ({
  id,
  type: 'document.updated',
  document: 'doc',
  payload: JSON.stringify({ id }),
  endpointIds,
  createdAt,
});

export function describeWebhookOutboxContract(ctx: { store(): DocumentStore; open(): Promise<DocumentStore> }): void {
  describe('webhook outbox', () => {
    it('marks changes in the commit that makes them; closing a mark enqueues its events once', async () => {
      const store = ctx.store();
      const webhooks = store.webhooks!;
      await webhooks.saveEndpoint(endpoint('ep1'));
      await store.append('new', bytes('1'));
      await store.append('new', bytes('2'));
      const seen: unknown[] = [];
      const events = await webhooks.closeChanges('new', (mark, head) => {
        seen.push({ mark: { ...mark, openedAt: typeof mark.openedAt }, head });
        return [{ ...event('e1', []), document: 'new' }];
      });
      expect(seen).toEqual([{ mark: { document: 'new', created: true, firstSeq: 1, openedAt: 'number' }, head: { seq: 2, title: '' } }]);
      expect(events.map((e) => e.id)).toEqual(['e1']);
      expect(await webhooks.closeChanges('new', () => expect.unreachable())).toEqual([]);

      await store.append('new', bytes('3'));
      await webhooks.closeChanges('new', (mark, head) => {
        expect(mark).toMatchObject({ created: false, firstSeq: 3 });
        expect(head).toEqual({ seq: 3, title: '' });
        return [];
      });
      expect(await webhooks.staleChanges(Date.now() + 1_000, 10)).toEqual([]);

      expect(await store.create('posted', 'Plan')).toBe(true);
      expect(await webhooks.staleChanges(Date.now() + 1_000, 10)).toEqual(['posted']);
      await webhooks.closeChanges('posted', (mark, head) => {
        expect(mark).toMatchObject({ created: true, firstSeq: 1 });
        expect(head).toEqual({ seq: 0, title: 'Plan' });
        return [];
      });
    });

    it('lets exactly one of two stores take a document.created', async () => {
      const other = await ctx.open();
      const store = ctx.store();
      await store.webhooks!.saveEndpoint(endpoint('ep1'));
      expect(await store.create('once', '')).toBe(true);
      const build = () => [{ ...event(`c-${Math.random()}`, []), document: 'once' }];
      const taken = await Promise.all([store.webhooks!.takeCreated('once', build), other.webhooks!.takeCreated('once', build)]);
      expect(taken.flat()).toHaveLength(1);
      // Nothing was appended after the create: the mark is gone with it.
      expect(await store.webhooks!.staleChanges(Date.now() + 1_000, 10)).toEqual([]);
      // Created by its first append, then appended to: the mark stays for document.updated.
      await store.append('first', bytes('1'));
      expect(await other.webhooks!.takeCreated('first', build)).toHaveLength(1);
      expect(await other.webhooks!.takeCreated('first', build)).toEqual([]);
      expect(await store.webhooks!.staleChanges(Date.now() + 1_000, 10)).toEqual(['first']);
    });

    it('writes no marks while no endpoint exists; an endpoint saved by another store gets the marks of every later change', async () => {
      const store = ctx.store();
      const other = await ctx.open();
      await store.append('quiet', bytes('1'));
      expect(await store.create('quiet-created', 'Plan')).toBe(true);
      expect(await store.webhooks!.staleChanges(Date.now() + 1_000, 10)).toEqual([]);
      expect(await store.webhooks!.closeChanges('quiet', () => expect.unreachable())).toEqual([]);

      // Created elsewhere (another instance, or the API of another process on the same database).
      await other.webhooks!.saveEndpoint(endpoint('later'));
      expect(await store.append('quiet', bytes('2'))).toBe(2);
      expect(await store.append('fresh', bytes('1'))).toBe(1);
      expect((await store.webhooks!.staleChanges(Date.now() + 1_000, 10)).sort()).toEqual(['fresh', 'quiet']);
      await store.webhooks!.closeChanges('quiet', (mark, head) => {
        // Only the change made after the endpoint existed; the document was created before it.
        expect(mark).toMatchObject({ created: false, firstSeq: 2 });
        expect(head).toEqual({ seq: 2, title: '' });
        return [];
      });
      await store.webhooks!.closeChanges('fresh', (mark) => {
        expect(mark).toMatchObject({ created: true, firstSeq: 1 });
        return [];
      });

      // The last endpoint gone: marks stop again.
      expect(await other.webhooks!.deleteEndpoint('later')).toBe(true);
      await store.append('quiet', bytes('3'));
      expect(await store.webhooks!.staleChanges(Date.now() + 1_000, 10)).toEqual([]);
    });

    it('leases each due delivery to one owner; an expired lease is taken over', async () => {
      const store = ctx.store();
      const other = await ctx.open();
      const a = store.webhooks!;
      const b = other.webhooks!;
      await a.saveEndpoint(endpoint('ep1'));
      await a.enqueue([event('m1', ['ep1'])]);
      const now = 10_000;
      const [claimedA, claimedB] = await Promise.all([a.claim('a', now, 5_000, 10, []), b.claim('b', now, 5_000, 10, [])]);
      expect([...claimedA, ...claimedB].map((d) => d.eventId)).toEqual(['m1']);
      const [winner, winnerStore, loser] = claimedA.length === 1 ? ['a', a, b] : ['b', b, a];
      expect([...claimedA, ...claimedB][0]).toMatchObject({ endpointId: 'ep1', attempts: 0, url: 'https://hooks.example.com/ep1', payload: '{"id":"m1"}' });
      // Leased: nobody gets it again until the lease ends; skipped endpoints are skipped.
      expect(await loser.claim('c', now + 4_999, 5_000, 10, [])).toEqual([]);
      const taken = await loser.claim('c', now + 5_001, 5_000, 10, []);
      expect(taken.map((d) => d.eventId)).toEqual(['m1']);
      // The first owner's outcome arrives late: ignored.
      const late = { status: 'delivered' as const, at: now + 6_000, nextAttemptAt: now + 6_000, httpStatus: 204, error: null, attempted: true };
      expect(await winnerStore.settle('m1', 'ep1', winner, late)).toBeNull();
      expect(await loser.settle('m1', 'ep1', 'c', late)).toEqual({ failingSince: null });
      const [delivered] = await a.deliveries('ep1', 10);
      expect(delivered).toMatchObject({ eventId: 'm1', status: 'delivered', attempts: 1, lastStatus: 204, deliveredAt: now + 6_000, nextAttemptAt: null });
      expect(await a.claim('a', now + 100_000, 5_000, 10, [])).toEqual([]);
    });

    it('schedules retries, tracks failing endpoints, disables them and prunes finished rows', async () => {
      const webhooks = ctx.store().webhooks!;
      await webhooks.saveEndpoint(endpoint('ep1'));
      await webhooks.saveEndpoint(endpoint('ep2'));
      await webhooks.enqueue([event('m1', ['ep1', 'ep2']), event('m2', ['ep1'])]);
      expect(await webhooks.outboxStats()).toEqual({ pending: 3, retrying: 0 });
      expect((await webhooks.claim('a', 1_000, 1_000, 10, ['ep2'])).map((d) => `${d.eventId}/${d.endpointId}`).sort()).toEqual(['m1/ep1', 'm2/ep1']);
      const failed = (at: number, next: number) => ({ status: 'pending' as const, at, nextAttemptAt: next, httpStatus: 500, error: 'HTTP 500', attempted: true });
      expect(await webhooks.settle('m1', 'ep1', 'a', failed(1_100, 5_000))).toEqual({ failingSince: 1_100 });
      expect(await webhooks.settle('m2', 'ep1', 'a', failed(1_200, 5_000))).toEqual({ failingSince: 1_100 });
      expect(await webhooks.outboxStats()).toEqual({ pending: 3, retrying: 2 });
      // Not due before its retry time.
      expect((await webhooks.claim('a', 4_999, 1_000, 10, ['ep2'])).length).toBe(0);
      const retried = await webhooks.claim('a', 5_000, 1_000, 10, ['ep2']);
      expect(retried.map((d) => d.attempts)).toEqual([1, 1]);
      // Abandoned unsent (shutdown): released, not counted.
      const release = { status: 'pending' as const, at: 5_001, nextAttemptAt: 5_001, httpStatus: null, error: null, attempted: false };
      for (const d of retried) await webhooks.settle(d.eventId, d.endpointId, 'a', release);
      const again = await webhooks.claim('b', 5_002, 1_000, 10, ['ep2']);
      expect(again.map((d) => d.attempts)).toEqual([1, 1]);
      expect(await webhooks.settle('m1', 'ep1', 'b', { ...failed(6_000, 6_000), status: 'failed' })).toEqual({ failingSince: 1_100 });

      expect(await webhooks.disableEndpoint('ep1', 'failing for days', 7_000)).toBe(true);
      expect(await webhooks.disableEndpoint('ep1', 'again', 7_001)).toBe(false);
      const rows = await webhooks.deliveries('ep1', 10);
      expect(rows.map((r) => [r.eventId, r.status, r.attempts]).sort()).toEqual([['m1', 'failed', 2], ['m2', 'failed', 1]]);
      expect(rows.find((r) => r.eventId === 'm2')!.lastError).toBe('endpoint disabled: failing for days');
      expect(await webhooks.deliveries('ep1', 10, 'pending')).toEqual([]);
      expect((await webhooks.listEndpoints()).find((e) => e.id === 'ep1')).toMatchObject({ disabledAt: 7_000, disabledReason: 'failing for days', failingSince: 1_100 });
      expect(await webhooks.enableEndpoint('ep1')).toBe(true);
      expect((await webhooks.listEndpoints()).find((e) => e.id === 'ep1')).toMatchObject({ disabledAt: null, failingSince: null });

      expect(await webhooks.prune(Date.now() + 1_000)).toBe(2);
      expect(await webhooks.outboxStats()).toEqual({ pending: 1, retrying: 0 });
      expect(await webhooks.deleteEndpoint('ep2')).toBe(true);
      expect(await webhooks.deleteEndpoint('ep2')).toBe(false);
      expect(await webhooks.outboxStats()).toEqual({ pending: 0, retrying: 0 });
    });
  });
}
