/**
 * The shop's own JSON API, beside Switchboard on the same HTTP server:
 *
 *   GET  /api/me        → { user } of the signed cookie, or 401
 *   POST /api/session   { name } → sets the signed cookie, { user }
 *   POST /api/logout    → clears it, and disconnects every page of that user (disconnectUser)
 *   GET  /api/catalog   → the products
 *   POST /api/orders    { productId, quantity } → 201 { order }; the seller is told at once
 *
 * An order is a notification on the seller's durable user channel: `toUser(seller).publish`
 * appends it to the channel's history and sends it to every tab the seller has open, on
 * every node; a seller who is offline gets it when a page of theirs joins the channel
 * with `since` (see page/seller.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Switchboard } from '../../src/server/index.js';
import { CATALOG, formatPrice, productById } from './catalog.js';
import { type Notice, NoticeEvent, type ShopClientEvents, type ShopServerEvents } from './notices.js';
import { checkName, parseCookies, SESSION_COOKIE, SessionCookies } from './sign-in.js';

export type ShopSwitchboard = Switchboard<ShopClientEvents, ShopServerEvents>;

/** Request bodies of the shop API are tiny. */
const MAX_BODY_BYTES = 4096;

export interface Order {
  id: string;
  productId: string;
  quantity: number;
  buyer: string;
  seller: string;
  total: number;
  at: number;
}

/** Handle a request under /api/ (other than the HTTP API's path); false when it is not one of ours. */
export function shopApi(sb: ShopSwitchboard, cookies: SessionCookies): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const user = cookies.verify(parseCookies(req.headers.cookie)[SESSION_COOKIE]);
    const route = `${req.method} ${path}`;
    switch (route) {
      case 'GET /api/me':
        if (!user) json(res, 401, { code: 'unauthorized', message: 'not signed in' });
        else json(res, 200, { user });
        return true;
      case 'GET /api/catalog':
        json(res, 200, { products: CATALOG });
        return true;
      case 'POST /api/session': {
        const body = await readJson(req, res);
        if (body === undefined) return true;
        const name = checkName((body as { name?: unknown }).name);
        if (!name) json(res, 400, { code: 'bad_request', message: 'a name is 1 to 32 letters, digits, - or _, starting with a letter' });
        else json(res, 200, { user: name }, { 'Set-Cookie': cookies.setCookie(name) });
        return true;
      }
      case 'POST /api/logout':
        // Every tab and device of the user, on every node, is closed with 4010 and does not reconnect.
        if (user) await sb.disconnectUser(user);
        res.writeHead(204, { 'Set-Cookie': SessionCookies.clearCookie(), 'Cache-Control': 'no-store' }).end();
        return true;
      case 'POST /api/orders': {
        if (!user) {
          json(res, 401, { code: 'unauthorized', message: 'sign in to order' });
          return true;
        }
        const body = await readJson(req, res);
        if (body === undefined) return true;
        const order = newOrder(user, body);
        if (typeof order === 'string') {
          json(res, 400, { code: 'bad_request', message: order });
          return true;
        }
        const product = productById(order.productId);
        const notice: Notice = {
          id: order.id,
          kind: 'order',
          title: `New order from ${order.buyer}`,
          text: `${order.quantity} × ${product?.name ?? order.productId}, ${formatPrice(order.total)}`,
          at: order.at,
        };
        // Appended to the seller's channel before the buyer hears back: once this answers, the order is on its way.
        await sb.toUser(order.seller).publish(NoticeEvent.Notice, notice);
        json(res, 201, { order });
        return true;
      }
      default:
        if (!path.startsWith('/api/')) return false;
        json(res, 404, { code: 'not_found', message: `no route ${route}` });
        return true;
    }
  };
}

function newOrder(buyer: string, body: unknown): Order | string {
  const { productId, quantity = 1 } = body as { productId?: unknown; quantity?: unknown };
  const product = productById(productId);
  if (!product) return 'productId names no product of the catalog';
  if (!Number.isInteger(quantity) || (quantity as number) < 1 || (quantity as number) > 99) return 'quantity is an integer from 1 to 99';
  const q = quantity as number;
  return { id: `order-${randomUUID().slice(0, 8)}`, productId: product.id, quantity: q, buyer, seller: product.seller, total: q * product.price, at: Date.now() };
}

/** The JSON body, or undefined once an error was answered. Only JSON bodies: a cross-site form cannot send one without CORS. */
async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    json(res, 415, { code: 'bad_request', message: 'send application/json' });
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      json(res, 413, { code: 'message_too_big', message: `at most ${MAX_BODY_BYTES} bytes` }, { Connection: 'close' });
      return undefined;
    }
    chunks.push(chunk);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null) return value;
  } catch {
    // answered below
  }
  json(res, 400, { code: 'bad_request', message: 'the body is not a JSON object' });
  return undefined;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}
