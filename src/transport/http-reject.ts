import type { Duplex } from 'node:stream';

/**
 * Answer an Upgrade request with a plain HTTP error before any WebSocket exists, so the
 * peer (and `switchboard doctor`, curl, a browser's network tab) sees why.
 */
export function rejectUpgrade(socket: Duplex, status: number, statusText: string, body: string, headers: Readonly<Record<string, string>> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = `${body}\n`;
  let extra = '';
  for (const [name, value] of Object.entries(headers)) extra += `${name}: ${value}\r\n`;
  // The HTTP server's sockets allow half-open: without this a peer that never closes its side would keep it.
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      extra +
      '\r\n' +
      text,
  );
}
