import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { ChatAuth, ChatClientEvents, ChatServerEvents } from '../../examples/chat/chat-events.js';
import { HISTORY_LIMIT, HistoryRing } from '../../examples/chat/chat-rooms.js';
import { type ChatServer, startChatServer } from '../../examples/chat/chat-server.js';
import { characterCount, parseMessageText, parseName, parseRoomName } from '../../examples/chat/chat-validation.js';
import { connect, type SwitchboardClient, type SwitchboardError } from '../../src/client/node.js';

type ChatClient = SwitchboardClient<ChatServerEvents, ChatClientEvents>;
type Received = { [E in keyof ChatServerEvents]: { event: E; data: Parameters<ChatServerEvents[E]>[0] } }[keyof ChatServerEvents];

/** A chat client that records every server event, so a test can wait for one or check there was none. */
class Member {
  readonly events: Received[] = [];
  private waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];

  constructor(readonly client: ChatClient) {
    client.on('rooms', (data) => this.record({ event: 'rooms', data }));
    client.on('message', (data) => this.record({ event: 'message', data }));
    client.on('joined', (data) => this.record({ event: 'joined', data }));
    client.on('left', (data) => this.record({ event: 'left', data }));
    client.on('typing', (data) => this.record({ event: 'typing', data }));
  }

  static async open(url: string, auth: ChatAuth, room?: string): Promise<Member> {
    const member = new Member(connect<ChatServerEvents, ChatClientEvents>(url, { auth, reconnect: false }));
    await new Promise<void>((resolve, reject) => {
      member.client.once('connect', resolve);
      member.client.once('connect_error', reject);
    });
    if (room !== undefined) await member.client.emitWithAck('joinRoom', { room });
    return member;
  }

  /** The next event (already received or still to come) of this kind that matches. */
  next<E extends Received['event']>(event: E, match: (data: Extract<Received, { event: E }>['data']) => boolean = () => true, ms = 3000): Promise<Extract<Received, { event: E }>['data']> {
    const test = (r: Received): boolean => r.event === event && match(r.data as never);
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen.data as never);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${event}" event within ${ms} ms; got ${JSON.stringify(this.events)}`)), ms);
      this.waiters.push({
        match: test,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r.data as never);
        },
      });
    });
  }

  /** Events of a kind received so far. */
  all<E extends Received['event']>(event: E): Extract<Received, { event: E }>['data'][] {
    return this.events.filter((r) => r.event === event).map((r) => r.data as never);
  }

  /**
   * A request round trip: every event the server sent this client before handling it has
   * arrived once it resolves (one connection delivers frames in order).
   */
  async sync(): Promise<void> {
    await this.client.emitWithAck('listRooms');
  }

  close(): void {
    this.client.close();
  }

  private record(r: Received): void {
    this.events.push(r);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(r)) return true;
      w.resolve(r);
      return false;
    });
  }
}

/** The error a rejected promise carries. */
async function rejection(promise: Promise<unknown>): Promise<SwitchboardError> {
  try {
    await promise;
  } catch (error) {
    return error as SwitchboardError;
  }
  assert.fail('expected the request to be rejected');
}

/** Connect with `auth` and return the refusal the server answered with, and the client's state after it. */
async function refusal(url: string, auth: unknown): Promise<{ error: SwitchboardError; state: string }> {
  const client = connect(url, { auth, reconnect: false });
  try {
    const error = await new Promise<SwitchboardError>((resolve, reject) => {
      client.once('connect', () => reject(new Error(`connected with auth ${JSON.stringify(auth)}`)));
      client.once('connect_error', resolve);
    });
    await new Promise((r) => setImmediate(r));
    return { error, state: client.state };
  } finally {
    client.close();
  }
}

describe('chat server', () => {
  let chat: ChatServer;
  let url: string;
  const open: Member[] = [];

  async function member(name: string, room?: string, auth: Partial<ChatAuth> = {}): Promise<Member> {
    const m = await Member.open(url, { name, ...auth }, room);
    open.push(m);
    return m;
  }

  before(async () => {
    chat = await startChatServer({ port: 0, host: '127.0.0.1' });
    url = `ws://127.0.0.1:${chat.port}/ws`;
  });
  after(async () => {
    for (const m of open) m.close();
    await chat.close();
  });

  describe('display name at the handshake', () => {
    const cases: [string, unknown, RegExp][] = [
      ['no auth at all', undefined, /choose a display name/],
      ['a name that is not a string', { name: 42 }, /choose a display name/],
      ['an empty name', { name: '' }, /choose a display name/],
      ['a name of spaces only', { name: '   ' }, /choose a display name/],
      ['a name of 33 characters', { name: 'n'.repeat(33) }, /at most 32 characters/],
      ['a name with a control character', { name: 'Ada\u0007' }, /control characters/],
      ['a name with a newline', { name: 'Ada\nGrace' }, /control characters/],
      ['a name with a bidi override', { name: 'Ada\u202Eevil' }, /control characters/],
    ];
    for (const [what, auth, message] of cases) {
      test(`refuses ${what} with invalid_name and a message for people`, async () => {
        const { error, state } = await refusal(url, auth);
        assert.equal(error.code, 'invalid_name');
        assert.match(error.message, message);
        assert.equal(state, 'disconnected', 'a refused name is not retried');
      });
    }

    test('accepts 32 characters after trimming, counting an emoji as one', async () => {
      const name = `${'n'.repeat(31)}😀`;
      assert.equal(name.length, 33, 'UTF-16 length is over the limit; characters are not');
      const m = await member(`  ${name}  `, 'lobby');
      const message = await m.client.emitWithAck('sendMessage', { room: 'lobby', text: 'hi' });
      assert.equal(message.name, name);
    });

    test('refuses an invalid room in the handshake with invalid_room', async () => {
      const { error } = await refusal(url, { name: 'Ada', room: '../etc' });
      assert.equal(error.code, 'invalid_room');
    });
  });

  test('the room list has the lobby first and online counts, and is pushed when counts change or a room is created', async () => {
    const watcher = await member('RoomWatcher');
    const a = await member('Ada', 'count-test');
    await member('Grace', 'count-test');
    const pushed = await watcher.next('rooms', ({ rooms }) => rooms.some((r) => r.name === 'count-test' && r.online === 2));
    assert.equal(pushed.rooms[0]?.name, 'lobby');

    const { rooms } = await a.client.emitWithAck('listRooms');
    assert.equal(rooms[0]?.name, 'lobby');
    assert.deepEqual(rooms.find((r) => r.name === 'count-test'), { name: 'count-test', online: 2 });

    await a.client.emitWithAck('joinRoom', { room: 'Brand New' });
    const update = await watcher.next('rooms', (d) => d.rooms.some((r) => r.name === 'Brand New'));
    assert.deepEqual(update.rooms.find((r) => r.name === 'count-test'), { name: 'count-test', online: 1 });
    assert.deepEqual(update.rooms.find((r) => r.name === 'Brand New'), { name: 'Brand New', online: 1 });
  });

  test('room names are matched without case and spaces are tidied; a room its last member leaves is forgotten', async () => {
    const a = await member('Ada');
    const first = await a.client.emitWithAck('joinRoom', { room: '  Night   Owls ' });
    assert.equal(first.room, 'Night Owls');
    const b = await member('Grace');
    assert.equal((await b.client.emitWithAck('joinRoom', { room: 'night owls' })).room, 'Night Owls');
    assert.equal((await b.client.emitWithAck('joinRoom', { room: 'lobby' })).room, 'lobby');
    await a.client.emitWithAck('joinRoom', { room: 'lobby' });
    const { rooms } = await a.client.emitWithAck('listRooms');
    assert.equal(rooms.some((r) => r.name === 'Night Owls'), false, 'nobody in it: forgotten');
  });

  test('a room its last member leaves is no longer listed, even after messages; the lobby stays listed when empty', async () => {
    const watcher = await member('FadeWatcher');
    const ada = await member('Ada', 'fading');
    await ada.client.emitWithAck('sendMessage', { room: 'fading', text: 'anyone?' });
    await watcher.next('rooms', ({ rooms }) => rooms.some((r) => r.name === 'fading' && r.online === 1));

    await ada.client.emitWithAck('joinRoom', { room: 'lobby' });
    const pushed = await watcher.next('rooms', ({ rooms }) => !rooms.some((r) => r.name === 'fading'));
    assert.equal(pushed.rooms[0]?.name, 'lobby');
    const { rooms } = await watcher.client.emitWithAck('listRooms');
    assert.equal(rooms.some((r) => r.name === 'fading'), false, 'nobody in it: not listed, though something was said');
    assert.equal(rooms.every((r) => r.online > 0 || r.name === 'lobby'), true, `only occupied rooms besides the lobby: ${JSON.stringify(rooms)}`);

    await ada.client.emitWithAck('joinRoom', { room: 'fading-too' });
    const emptyLobby = await watcher.next('rooms', ({ rooms: list }) => list.some((r) => r.name === 'fading-too'));
    assert.equal(emptyLobby.rooms[0]?.name, 'lobby', 'the default room is listed whoever is in it');
  });

  test('joining returns the recent history, oldest first and at most 50 messages', async () => {
    const writer = await member('Writer', 'history-test');
    const sent: string[] = [];
    for (let i = 1; i <= HISTORY_LIMIT + 5; i++) {
      const text = `message ${i}`;
      sent.push(text);
      await writer.client.emitWithAck('sendMessage', { room: 'history-test', text });
    }
    const reader = await member('Reader');
    const joined = await reader.client.emitWithAck('joinRoom', { room: 'history-test' });
    assert.equal(joined.room, 'history-test');
    assert.equal(joined.online, 2);
    assert.deepEqual(
      joined.history.map((m) => m.text),
      sent.slice(-HISTORY_LIMIT),
    );
    const [firstKept] = joined.history;
    assert.equal(firstKept?.name, 'Writer');
    assert.equal(typeof firstKept?.id, 'string');
    assert.equal(new Set(joined.history.map((m) => m.id)).size, HISTORY_LIMIT, 'ids are unique');

    const again = await reader.client.emitWithAck('joinRoom', { room: 'history-test' });
    assert.equal(again.history.length, HISTORY_LIMIT, 'joining the room you are in returns it again');
  });

  test('a message goes to the others in the room with id, name, server time and text — not to other rooms', async () => {
    const ada = await member('Ada', 'msg-test');
    const grace = await member('Grace', 'msg-test');
    const outsider = await member('Outsider', 'elsewhere');
    const before = Date.now();
    const reply = await ada.client.emitWithAck('sendMessage', { room: 'msg-test', text: '  hello <b>there</b>  ' });
    assert.equal(reply.text, 'hello <b>there</b>', 'trimmed, otherwise stored as is');
    assert.equal(reply.name, 'Ada');
    assert.equal(reply.room, 'msg-test');
    assert.ok(reply.time >= before && reply.time <= Date.now());
    assert.deepEqual(await grace.next('message'), reply);
    await Promise.all([ada.sync(), outsider.sync()]);
    assert.deepEqual(ada.all('message'), [], 'the sender gets its message as the reply only');
    assert.deepEqual(outsider.all('message'), []);
  });

  test('every invalid message is refused with a documented code', async () => {
    const m = await member('Validator', 'validation');
    const send = (data: unknown): Promise<SwitchboardError> =>
      rejection((m.client.emitWithAck as (e: string, d: unknown) => Promise<unknown>)('sendMessage', data));

    assert.equal((await send({ room: 'validation', text: '' })).code, 'message_empty');
    assert.equal((await send({ room: 'validation', text: ' \n\t ' })).code, 'message_empty');
    const tooLong = await send({ room: 'validation', text: 'x'.repeat(1001) });
    assert.equal(tooLong.code, 'message_too_long');
    assert.match(tooLong.message, /at most 1000 characters/);
    assert.equal((await send({ room: 'validation', text: 42 })).code, 'invalid_message');
    assert.equal((await send({ room: 'validation' })).code, 'invalid_message');
    assert.equal((await send('just a string')).code, 'invalid_message');
    assert.equal((await send({ text: 'no room' })).code, 'invalid_message');
    assert.equal((await send({ room: 'validation', text: 'hi', nonce: 'not a valid nonce!' })).code, 'invalid_message');
    assert.equal((await send({ room: 'somewhere-else', text: 'hi' })).code, 'not_in_room');

    const exactly = await m.client.emitWithAck('sendMessage', { room: 'validation', text: `  ${'é'.repeat(1000)}  ` });
    assert.equal(characterCount(exactly.text), 1000, '1000 characters after trimming are fine');

    const join = (data: unknown): Promise<SwitchboardError> => rejection((m.client.emitWithAck as (e: string, d: unknown) => Promise<unknown>)('joinRoom', data));
    assert.equal((await join({ room: '' })).code, 'invalid_room');
    assert.equal((await join({ room: 'r'.repeat(41) })).code, 'invalid_room');
    assert.equal((await join({ room: 'no/slashes' })).code, 'invalid_room');
    assert.equal((await join({ room: 7 })).code, 'invalid_room');
    assert.equal((await join(null)).code, 'invalid_room');
  });

  test('join and leave notices carry the new online count; a disconnect is a leave', async () => {
    const ada = await member('Ada', 'presence');
    const grace = await member('Grace', 'presence');
    assert.deepEqual(pick(await ada.next('joined', (d) => d.name === 'Grace')), { room: 'presence', name: 'Grace', online: 2 });

    await grace.client.emitWithAck('joinRoom', { room: 'presence-2' });
    assert.deepEqual(pick(await ada.next('left', (d) => d.name === 'Grace')), { room: 'presence', name: 'Grace', online: 1 });

    const alan = await member('Alan', 'presence-2');
    assert.deepEqual(pick(await grace.next('joined', (d) => d.name === 'Alan')), { room: 'presence-2', name: 'Alan', online: 2 });
    alan.close();
    assert.deepEqual(pick(await grace.next('left', (d) => d.name === 'Alan')), { room: 'presence-2', name: 'Alan', online: 1 });

    await ada.sync();
    assert.deepEqual(
      ada.all('joined').concat(ada.all('left')).filter((n) => n.room !== 'presence'),
      [],
      'notices stay in their room',
    );
  });

  test('typing reaches the others in the room, never the sender or other rooms', async () => {
    const ada = await member('Ada', 'typing-test');
    const grace = await member('Grace', 'typing-test');
    const outsider = await member('Outsider', 'typing-elsewhere');
    ada.client.volatile.emit('typing');
    assert.deepEqual(await grace.next('typing'), { room: 'typing-test', name: 'Ada' });
    await Promise.all([ada.sync(), outsider.sync()]);
    assert.deepEqual(ada.all('typing'), []);
    assert.deepEqual(outsider.all('typing'), []);
  });

  test('a message re-sent with the same nonce is stored and broadcast once', async () => {
    const ada = await member('Ada', 'nonce-test');
    const grace = await member('Grace', 'nonce-test');
    const first = await ada.client.emitWithAck('sendMessage', { room: 'nonce-test', text: 'once', nonce: 'n-1' });
    const retry = await ada.client.emitWithAck('sendMessage', { room: 'nonce-test', text: 'once', nonce: 'n-1' });
    assert.deepEqual(retry, first);
    const other = await ada.client.emitWithAck('sendMessage', { room: 'nonce-test', text: 'once', nonce: 'n-2' });
    assert.notEqual(other.id, first.id);
    await grace.next('message', (m) => m.id === other.id);
    assert.deepEqual(
      grace.all('message').map((m) => m.id),
      [first.id, other.id],
    );
  });

  test('a reconnecting page that names its room in the handshake is back in it before its first message', async () => {
    const grace = await member('Grace', 'rejoin-test');
    const ada = await member('Ada', undefined, { room: 'rejoin-test' });
    assert.deepEqual(pick(await grace.next('joined', (d) => d.name === 'Ada')), { room: 'rejoin-test', name: 'Ada', online: 2 });
    const message = await ada.client.emitWithAck('sendMessage', { room: 'rejoin-test', text: 'typed while offline' });
    assert.equal((await grace.next('message')).id, message.id);
    const again = await ada.client.emitWithAck('joinRoom', { room: 'rejoin-test' });
    assert.equal(again.online, 2);
    assert.equal(again.history.at(-1)?.id, message.id);
    await grace.sync();
    assert.equal(grace.all('joined').filter((n) => n.name === 'Ada').length, 1, 'joining the room you are in announces nothing');
  });

  test('a room cannot be named like a connection to reach its private room', async () => {
    const victim = await member('Victim');
    const attacker = await member('Attacker');
    const id = victim.client.id as string;
    // Socket ids use letters, digits, - and _: a valid room name.
    const joined = await attacker.client.emitWithAck('joinRoom', { room: id });
    await attacker.client.emitWithAck('sendMessage', { room: joined.room, text: 'psst' });
    await victim.sync();
    assert.deepEqual(victim.all('message'), []);
  });

  describe('static files', () => {
    const get = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${chat.port}${path}`);

    test('serve the page with a content security policy, and scripts and styles with their types', async () => {
      const page = await get('/');
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.match(await page.text(), /<title>Switchboard chat<\/title>/);
      assert.equal((await get('/app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal((await get('/styles.css')).headers.get('content-type'), 'text/css; charset=utf-8');
      assert.equal((await get('/favicon.svg')).headers.get('content-type'), 'image/svg+xml');
    });

    test('the browser client is served beside them', async () => {
      const bundle = await get('/switchboard/client.js');
      assert.equal(bundle.status, 200, 'run `npm run build:client` first');
      assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
      assert.match(await bundle.text(), /connect/);
    });

    test('nothing outside public/ is reachable', async () => {
      // Sent as written (fetch would normalise the dots away before they reach the server).
      for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fchat-server.ts', '/%2e%2e%2f%2e%2e%2fpackage.json', '/.env', '/app.js%00.html', '/..%5cchat-server.ts', '/missing.js']) {
        const { status, body } = await rawGet(chat.port, path);
        assert.ok(status === 404 || status === 400, `${path} answered ${status}`);
        assert.doesNotMatch(body, /"name": "switchboard"|startChatServer/);
      }
      assert.equal((await fetch(`http://127.0.0.1:${chat.port}/`, { method: 'POST' })).status, 405);
    });
  });
});

describe('chat validation', () => {
  test('names, rooms and texts are cleaned the way the messages say', () => {
    assert.equal(parseName('  Ada  '), 'Ada');
    assert.equal(parseRoomName(' café   crème '), 'café crème', 'letters of any script');
    assert.equal(parseMessageText('a\r\nb\u0000c\u202E'), 'a\nbc', 'newlines kept, invisible controls dropped');
    assert.equal(parseMessageText('\ttabbed'), 'tabbed');
  });

  test('the history ring keeps the last items in order', () => {
    const ring = new HistoryRing<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    assert.deepEqual(ring.toArray(), [5, 6, 7]);
    assert.equal(ring.find((n) => n < 6), 5);
    assert.equal(ring.find((n) => n < 5), undefined);
  });
});

test('`npm start` runs the chat: it prints the URL and exits 0 on SIGTERM after closing connections with 1001', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/chat/server.ts'], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the chat did not start: ${output}`)), 15_000);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk;
        const match = /http:\/\/localhost:(\d+)\//.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);

    const m = await Member.open(`ws://127.0.0.1:${port}/ws`, { name: 'Ada' }, 'lobby');
    const closed = new Promise<number | undefined>((resolve) => m.client.on('state', (s) => s.state !== 'connected' && resolve(s.closeCode)));
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    assert.equal(await closed, 1001);
    const [code] = await exited;
    assert.equal(code, 0);
    m.close();
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

/** A GET with the path exactly as given. */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function pick(notice: { room: string; name: string; online: number }): { room: string; name: string; online: number } {
  return { room: notice.room, name: notice.name, online: notice.online };
}

test('a full room directory refuses a new room with the chat\'s own code room_directory_full', async () => {
  const chat = await startChatServer({ port: 0, host: '127.0.0.1', maxRooms: 2 });
  // The lobby and the kitchen fill the directory.
  const m = await Member.open(`ws://127.0.0.1:${chat.port}/ws`, { name: 'Ada' }, 'kitchen');
  try {
    const error = await rejection(m.client.emitWithAck('joinRoom', { room: 'garden' }));
    assert.equal(error.code, 'room_directory_full', 'not the framework code too_many_rooms, which means rooms per connection');
    assert.match(error.message, /already has 2 rooms/);
    assert.deepEqual(await m.client.emitWithAck('joinRoom', { room: 'Lobby' }).then((r) => r.room), 'lobby', 'existing rooms stay joinable');
  } finally {
    m.close();
    await chat.close({ deadline: 100 });
  }
});
