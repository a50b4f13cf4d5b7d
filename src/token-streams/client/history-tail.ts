import type { Publication, StreamPosition } from '../../protocol/frames.js';
import type { TokenStreamClient } from './reader-client.js';

/** Most publications one history request may ask for (the server's bound for clients). */
export const HISTORY_PAGE = 1000;

/** What a reader read of a room's history: publications oldest first, and the room's position then. */
export interface HistoryTail {
  publications: Publication[];
  position: StreamPosition;
}

/**
 * Read the end of a room's history: the latest `backlog` publications, then earlier pages
 * while `wantsEarlier(publications)` says a message begins before them, until the history
 * holds nothing earlier. The server reads history forwards only (the latest N, or after a
 * position), so an earlier page is asked for "after offset X" with X computed from the first
 * offset read; when X is older than what the history keeps (`unrecoverable`) the page is
 * halved until it fits.
 */
export async function readHistoryTail(
  client: Pick<TokenStreamClient, 'history'>,
  room: string,
  backlog: number,
  wantsEarlier: (publications: readonly Publication[]) => boolean,
): Promise<HistoryTail> {
  const latest = await client.history(room, { limit: Math.max(1, Math.min(backlog, HISTORY_PAGE)) });
  let publications = latest.publications;
  const { epoch } = latest.position;
  while (publications.length > 0) {
    const low = (publications[0] as Publication).position.offset;
    if (low <= 1) break;
    if (publications.length >= backlog && !wantsEarlier(publications)) break;
    const earlier = await readBefore(client, room, epoch, low);
    if (earlier.length === 0) break;
    publications = earlier.concat(publications);
  }
  return { publications, position: latest.position };
}

/** The publications just before offset `low` that the history still keeps (at most a page). */
async function readBefore(client: Pick<TokenStreamClient, 'history'>, room: string, epoch: string, low: number): Promise<Publication[]> {
  let step = Math.min(HISTORY_PAGE, low - 1);
  while (step >= 1) {
    try {
      const page = await client.history(room, { since: { epoch, offset: low - 1 - step }, limit: step });
      if (page.position.epoch !== epoch) return [];
      return page.publications.filter((p) => p.position.epoch === epoch && p.position.offset < low);
    } catch (err) {
      if ((err as { code?: unknown })?.code !== 'unrecoverable') throw err;
      // Part of that page was trimmed: try a shorter one, nearer to `low`.
      step = Math.floor(step / 2);
    }
  }
  return [];
}
