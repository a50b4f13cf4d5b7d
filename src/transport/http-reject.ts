import type { Duplex } from 'node:stream';

/**
 * Answer an Upgrade request with a plain HTTP error before any WebSocket exists, so the
 * peer (and `switchboard doctor`, curl, a browser's network tab) sees why.
 */
export function rejectUpgrade(socket: Duplex, status: number, statusText: string, body: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = `${body}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      '\r\n' +
      text,
  );
}
