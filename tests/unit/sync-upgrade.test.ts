import { describe, expect, it } from 'vitest';
import { selectSubprotocol, targetPathname, upgradeRefusal, upgradeTarget } from '../../server/http/sync.js';

describe('the sync endpoint before the upgrade', () => {
  it('takes the document from the path, and answers what it does not serve with 404 or 426', () => {
    expect(upgradeTarget('GET', '/sync/team%2Fnotes?token=x', 'websocket', '/sync')).toEqual({ document: { name: 'team/notes' } });
    expect(upgradeTarget('GET', '/sync/%E0%A4%A', 'WebSocket', '/sync')).toEqual({ document: { problem: 'document name is not valid percent-encoding' } });
    expect(upgradeTarget('GET', '/sync', 'websocket', '/sync')).toEqual({ hocuspocus: true });
    expect(upgradeTarget('GET', '/sync?x=1', 'websocket', '/sync')).toEqual({ hocuspocus: true });
    expect(upgradeTarget('GET', '/sync/', 'websocket', '/sync')).toEqual({ document: { problem: 'document name is empty' } });
    expect(upgradeTarget('GET', '/synchronize/x', 'websocket', '/sync')).toMatchObject({ status: 404 });
    expect(upgradeTarget('GET', '//sync/x', 'websocket', '/sync')).toMatchObject({ status: 404 });
    expect(upgradeTarget('POST', '/sync/x', 'websocket', '/sync')).toMatchObject({ status: 404 });
    expect(upgradeTarget('GET', '/sync/x', 'h2c', '/sync')).toMatchObject({ status: 426 });
    expect(upgradeTarget('GET', '/sync/x', undefined, '/sync')).toMatchObject({ status: 426 });
  });

  it('reads paths of origin-form and absolute-form targets the way a URL parser does', () => {
    expect(targetPathname('/sync/a/../b?x=1')).toBe('/sync/b');
    expect(targetPathname('http://docs.example/sync/a')).toBe('/sync/a');
    expect(targetPathname('not a target')).toBeNull();
  });

  it('writes a refusal as a complete HTTP response that closes the connection', () => {
    const response = upgradeRefusal(401, 'a token is required', { 'X-Refusal-Reason': 'a token is required' });
    const [head, body] = response.split('\r\n\r\n');
    expect(head!.split('\r\n')).toEqual([
      'HTTP/1.1 401 Unauthorized',
      'Connection: close',
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body!)}`,
      'X-Refusal-Reason: a token is required',
    ]);
    expect(JSON.parse(body!)).toEqual({ error: 'a token is required' });
  });

  it('echoes "collab" rather than the token subprotocol', () => {
    expect(selectSubprotocol(new Set(['collab', 'collab.token.x']))).toBe('collab');
    expect(selectSubprotocol(new Set(['collab.token.x', 'other']))).toBe('other');
    expect(selectSubprotocol(new Set(['collab.token.x']))).toBe('collab.token.x');
  });
});
