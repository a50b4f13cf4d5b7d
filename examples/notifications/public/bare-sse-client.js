/**
 * A receive-only Switchboard client on the browser's EventSource, without the SDK: what a
 * developer who does not use JavaScript tooling (or ports this to another language) writes
 * against docs/PROTOCOL.md, "HTTP transports". Dependency-free, about 150 lines.
 *
 * It receives the events pushed to the signed-in user (the server puts every connection
 * of a user in the user's room, `#user:<id>`) and keeps each one exactly once, in order,
 * across the reconnects EventSource makes by itself:
 *
 *  1. `GET {path}/sse` streams frames. Its first event, `event: open`, carries the
 *     connection id (`cid`); every later `message` event is one frame (compact JSON).
 *  2. Frames going up are POSTed to `{path}/send?cid=…`, one request at a time (JSON array
 *     of frames): the `hello`, `pong`s, `ack`s, and a `join` with `since` when needed.
 *  3. EventSource reconnects with a new GET after a drop, which is a new connection: the
 *     client sends `hello` with `resume` (the token of the last `welcome`) and `received`
 *     (frames counted since the session's first `welcome`). Resumed: the server sends
 *     again every frame after `received`. Not resumed (the session expired, the server
 *     restarted): a new session, so it joins the user room with `since` the last position
 *     it saw, and the server replays the gap (or answers `recovered: false`).
 *  4. Durable events carry `position` {epoch, offset}; an event that is not the next offset
 *     is a repeat (dropped) or comes before a replay that is on its way (dropped, the replay
 *     brings it in order).
 *
 * Usage:
 *   import { connectBare } from '/bare-sse-client.js';
 *   const client = connectBare({ room: '#user:ada', since: savedPosition,
 *     onEvent(event, data, position) { ...; save(position); } });
 */

/**
 * @typedef {{ epoch: string, offset: number }} Position
 * @typedef {{
 *   path?: string,
 *   room: string,
 *   since?: Position,
 *   onEvent: (event: string, data: unknown, position: Position | undefined) => void,
 *   onJoined?: (reply: { recovered?: boolean, position: Position }) => void,
 *   onStatus?: (status: string) => void,
 * }} BareOptions
 */

/** @param {BareOptions} options */
export function connectBare(options) {
  const path = options.path ?? '/ws';
  const status = options.onStatus ?? (() => {});
  let last = options.since;           // the last position seen in the room
  let resume;                         // the resume token of the last welcome (a credential: never log it)
  let received = 0;                   // frames received in the session since its first welcome
  let welcomed = false;               // on this connection
  let joining;                        // the join with since on its way, if any
  let ref = 0;                        // request refs keep counting across resumes
  let cid;                            // the current connection
  let queue = [];                     // frames to POST
  let posting = false;
  let ackTimer;
  let watchdog;
  let silence = 45000;                // heartbeat interval + timeout, from the welcome
  let source;

  function open() {
    source = new EventSource(`${path}/sse`);
    // EventSource fires its own `open` (an Event without data) when the stream starts; the
    // server's `event: open` arrives under the same name as a MessageEvent carrying the cid.
    source.addEventListener('open', (e) => {
      if (typeof e.data !== 'string') return;
      cid = JSON.parse(e.data).cid;
      welcomed = false;
      queue = [];
      const hello = { type: 'hello', v: 1 };
      if (resume) Object.assign(hello, { resume, received });
      send(hello);
      status('handshaking');
    });
    source.addEventListener('message', (e) => frame(JSON.parse(e.data)));
    source.addEventListener('close', (e) => {
      const { code } = JSON.parse(e.data);
      // These end for good (see PROTOCOL.md, Close codes): stop EventSource from reconnecting.
      if ([1000, 1008, 4000, 4003, 4004, 4010].includes(code)) stop(`closed (${code})`);
      else status(`closed (${code}), reconnecting`);
    });
    // A drop: EventSource reconnects by itself (readyState CONNECTING) unless the server refused the GET (CLOSED).
    source.addEventListener('error', () => {
      cid = undefined;
      status('reconnecting');
      if (source.readyState === EventSource.CLOSED) setTimeout(open, 3000);
    });
  }

  function frame(f) {
    alive();
    if (f.type === 'welcome') {
      welcomed = true;
      resume = f.resume;
      silence = f.heartbeat.interval + f.heartbeat.timeout;
      if (!f.resumed) received = 0;             // a new session (or restored on another node): count from 0
      send({ type: 'ack', received });          // shows the server we have the new token
      status(f.resumed ? 'live (resumed)' : 'live');
      // A session that was not resumed left the room's position behind: ask for the gap. A
      // resumed one may have lost the join we had sent (frames going up are not kept): again, same ref.
      if (!f.resumed && last) join();
      else if (joining) send(joining);
      return;
    }
    if (!welcomed) return;
    received++;                                 // every frame after the welcome counts, even ignored ones
    scheduleAck();
    switch (f.type) {
      case 'ping':
        send({ type: 'pong' }, { type: 'ack', received });
        clearTimeout(ackTimer);
        ackTimer = undefined;
        return;
      case 'event':
        if (f.ref !== undefined) send({ type: 'reply', ref: f.ref, error: { code: 'no_handler', message: 'receive-only client' } });
        else if (f.room === options.room && f.position) advance(f.position, () => options.onEvent(f.event, f.data, f.position));
        else options.onEvent(f.event, f.data, undefined);
        return;
      case 'position':                            // a publication this connection was left out of
        if (f.room === options.room) advance(f.position, () => {});
        return;
      case 'reply':
        if (joining && f.ref === joining.ref) {
          joining = undefined;
          if (f.error) return status(`join refused: ${f.error.code}`);
          // recovered: the replay came before this reply and moved `last` already; not: start again from here.
          if (f.data.recovered === false) last = f.data.position;
          options.onJoined?.(f.data);
        }
        return;
      case 'reauth':                              // cookie sessions do not expire here
        send({ type: 'reply', ref: f.ref, error: { code: 'unauthorized', message: 'no fresh credentials' } });
        return;
      case 'error':
        status(`error: ${f.code}`);
    }
  }

  /** Deliver a publication only if it is the next one of the room. */
  function advance(position, deliver) {
    if (last && position.epoch === last.epoch) {
      if (position.offset <= last.offset) return;  // seen already
      if (position.offset > last.offset + 1) {      // a gap: a replay brings it in order
        if (!joining) join();
        return;
      }
    } else if (last && joining) return;             // another epoch: wait for the join's answer
    last = position;
    deliver();
  }

  function join() {
    joining = { type: 'join', ref: ++ref, room: options.room, since: last };
    send(joining);
  }

  /** Frames go up one POST at a time, in order; what comes meanwhile goes in the next one. */
  function send(...frames) {
    queue.push(...frames);
    queueMicrotask(flush);                      // the frames of this moment go together
  }
  async function flush() {
    if (posting || !cid || queue.length === 0) return;
    posting = true;
    const batch = queue;
    const to = cid;
    queue = [];
    try {
      const answer = await fetch(`${path}/send?cid=${encodeURIComponent(to)}`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(batch) });
      if (!answer.ok) throw new Error(`send: ${answer.status}`);
    } catch {
      // The connection is lost: the resume on the next one brings back what the server sent.
      if (to === cid) reconnect();
    }
    posting = false;
    void flush();
  }

  /** At most a second after the first frame not yet acknowledged. */
  function scheduleAck() {
    ackTimer ??= setTimeout(() => {
      ackTimer = undefined;
      send({ type: 'ack', received });
    }, 1000);
  }

  /** The server pings every interval: silence past interval + timeout is a dead stream EventSource would not notice. */
  function alive() {
    clearTimeout(watchdog);
    watchdog = setTimeout(reconnect, silence);
  }

  function reconnect() {
    source.close();
    cid = undefined;
    status('reconnecting');
    open();
  }

  function stop(why) {
    clearTimeout(watchdog);
    clearTimeout(ackTimer);
    source.close();
    status(why);
  }

  // A page closed for good ends the session at once (1001) instead of leaving it to expire.
  addEventListener('pagehide', (e) => {
    if (!e.persisted && cid) navigator.sendBeacon(`${path}/close?cid=${encodeURIComponent(cid)}`, JSON.stringify({ code: 1001, reason: 'page closed', resume }));
  });

  open();
  return {
    /** End the session (1000). */
    close() {
      if (cid) void fetch(`${path}/close?cid=${encodeURIComponent(cid)}`, { method: 'POST', body: JSON.stringify({ code: 1000 }) });
      stop('closed');
    },
    /** The last position seen in the room: save it, and pass it back as `since`. */
    get position() {
      return last;
    },
  };
}
