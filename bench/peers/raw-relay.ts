/**
 * The practical ceiling: a plain `ws` server that forwards every message to the other sockets of
 * its room (the URL path) without looking at it. No Yjs, no storage, no awareness bookkeeping.
 */
import http from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

const rooms = new Map<string, Set<WebSocket>>();
const server = http.createServer((_request, response) => {
  response.writeHead(426, { 'content-type': 'text/plain' });
  response.end('WebSocket only');
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });

wss.on('connection', (ws, request) => {
  const name = request.url ?? '/';
  let room = rooms.get(name);
  if (!room) {
    room = new Set();
    rooms.set(name, room);
  }
  const members = room;
  members.add(ws);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    for (const other of members) if (other !== ws) other.send(data, { binary: isBinary });
  });
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(name);
  });
  ws.on('error', () => ws.terminate());
});

server.listen(port, host);
const stop = () => {
  for (const ws of wss.clients) ws.terminate();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
