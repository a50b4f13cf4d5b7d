/**
 * `switchboard connect` through the real binary (node bin/switchboard.js) against a real
 * server: the --json mode line by line, -x one-shots, usage errors, and the interactive
 * prompt in a pseudo-terminal (python3's pty module: Node has none).
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ReplyError, type Switchboard } from '../../src/server/index.js';
import { startServer } from '../helpers/server.js';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let sb: Switchboard;
let url: string;
const children: ChildProcessWithoutNullStreams[] = [];

before(async () => {
  ({ sb, url } = await startServer());
  sb.durable('news');
  sb.trackPresence('lobby');
  sb.use((socket, next) => {
    const auth = socket.handshake.auth as { name?: unknown } | undefined;
    if (auth?.name === 'mallory') return next(new ReplyError('forbidden_user', 'mallory may not connect'));
    if (typeof auth?.name === 'string') socket.user = auth.name;
    next();
  });
  sb.on('connection', (socket) => {
    socket.on('echo', (data: unknown) => data);
    socket.on('fail', () => {
      throw new ReplyError('teapot', 'I am a teapot');
    });
    socket.on('say', (data: unknown) => void sb.to('lobby').emit('said', data));
    socket.on('post', (data: unknown) => sb.to('news').publish('story', data));
    // The server asks the client back, under a name the CLI was never given.
    socket.on('ask-me', (question: unknown) => socket.emitWithAck('unheard-question', question));
  });
});

after(async () => {
  for (const child of children) child.kill();
  await sb.close();
});

/** The binary with piped stdio; `lines` collects stdout lines, `next` waits for one that matches. */
function launch(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'connect', ...args], { cwd: ROOT });
  children.push(child);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let seen = 0;
  /** The next JSON line (after those already taken) that satisfies `match`; the skipped ones are returned too. */
  async function next(match: (o: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (;;) {
      while (seen < lines.length) {
        const parsed = JSON.parse(lines[seen++] as string) as Record<string, unknown>;
        if (match(parsed)) return parsed;
      }
      await new Promise<void>((resolve, reject) => {
        waiters.push(resolve);
        void exited.then(() => reject(new Error(`exited before the line was seen; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)));
      });
    }
  }
  const send = (command: object): void => void child.stdin.write(`${JSON.stringify(command)}\n`);
  return { child, lines, next, send, exited, stderr: () => stderr };
}

/** Drop the fields that change from run to run. */
function stable(o: Record<string, unknown>): Record<string, unknown> {
  const { time: _time, ms, id, ...rest } = o;
  if (rest.type === 'state' && rest.state === 'connected') delete (rest as { id?: unknown }).id;
  return { ...rest, ...(id !== undefined && { id }), ...(ms !== undefined && { ms: typeof ms }) };
}

describe('switchboard connect --json', () => {
  test('every command, its reply and the events that arrive, one JSON object per line', async () => {
    const cli = launch([url, '--json', '--auth', '{"name":"ada"}']);
    const connected = await cli.next((o) => o.type === 'state');
    assert.equal(connected.state, 'connected');
    assert.equal(connected.reason, 'handshake_ok');
    assert.equal(connected.transport, 'websocket');
    assert.equal(typeof connected.id, 'string');
    assert.match(String(connected.time), /^\d{4}-\d\d-\d\dT/);

    cli.send({ cmd: 'join', room: 'lobby', id: 1 });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'presence')), { type: 'presence', room: 'lobby', kind: 'join', user: 'ada', info: null });
    assert.deepEqual(stable(await cli.next((o) => o.id === 1)), { type: 'reply', cmd: 'join', data: { room: 'lobby' }, id: 1, ms: 'number' });

    cli.send({ cmd: 'join', room: 'news', id: 2 });
    const news = await cli.next((o) => o.id === 2);
    const { epoch } = (news.data as { position: { epoch: string } }).position;
    assert.deepEqual(stable(news), { type: 'reply', cmd: 'join', data: { room: 'news', durable: true, position: { epoch, offset: 0 } }, id: 2, ms: 'number' });

    cli.send({ cmd: 'request', event: 'echo', data: { a: [1, 2] }, id: 'r3' });
    assert.deepEqual(stable(await cli.next((o) => o.id === 'r3')), { type: 'reply', cmd: 'request', data: { a: [1, 2] }, id: 'r3', ms: 'number' });

    cli.send({ cmd: 'request', event: 'fail', id: 4 });
    assert.deepEqual(stable(await cli.next((o) => o.id === 4)), { type: 'error', cmd: 'request', code: 'teapot', message: 'I am a teapot', id: 4, ms: 'number' });

    cli.send({ cmd: 'request', event: 'nobody-answers', id: 5 });
    assert.equal((await cli.next((o) => o.id === 5)).code, 'no_handler');

    cli.send({ cmd: 'emit', event: 'say', data: { text: 'hi' }, id: 6 });
    assert.deepEqual(stable(await cli.next((o) => o.id === 6)), { type: 'reply', cmd: 'emit', data: { sent: true }, id: 6 });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'event')), { type: 'event', event: 'said', data: { text: 'hi' }, room: 'lobby' });

    cli.send({ cmd: 'request', event: 'post', data: { n: 1 }, id: 7 });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'event')), { type: 'event', event: 'story', data: { n: 1 }, room: 'news', position: { epoch, offset: 1 } });
    assert.deepEqual(stable(await cli.next((o) => o.id === 7)), { type: 'reply', cmd: 'request', data: { epoch, offset: 1 }, id: 7, ms: 'number' });

    // An event name the tool has never seen, pushed by the server: shown all the same.
    sb.to('lobby').emit('surprise', 42);
    assert.deepEqual(stable(await cli.next((o) => o.type === 'event')), { type: 'event', event: 'surprise', data: 42, room: 'lobby' });

    cli.send({ cmd: 'history', room: 'news', limit: 10, id: 8 });
    assert.deepEqual(stable(await cli.next((o) => o.id === 8)), {
      type: 'reply',
      cmd: 'history',
      data: { publications: [{ event: 'story', data: { n: 1 }, position: { epoch, offset: 1 } }], position: { epoch, offset: 1 } },
      id: 8,
      ms: 'number',
    });
    cli.send({ cmd: 'history', room: 'lobby', id: 9 });
    assert.equal((await cli.next((o) => o.id === 9)).code, 'not_durable');

    cli.send({ cmd: 'presence', room: 'lobby', id: 10 });
    assert.deepEqual(stable(await cli.next((o) => o.id === 10)), { type: 'reply', cmd: 'presence', data: [{ user: 'ada', info: null }], id: 10, ms: 'number' });

    cli.send({ cmd: 'join', room: 'news', since: `${epoch}:0`, id: 11 });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'event')), { type: 'event', event: 'story', data: { n: 1 }, room: 'news', position: { epoch, offset: 1 } });
    assert.deepEqual((await cli.next((o) => o.id === 11)).data, { room: 'news', durable: true, position: { epoch, offset: 1 }, recovered: true });

    cli.send({ cmd: 'leave', room: 'news', id: 12 });
    assert.deepEqual(stable(await cli.next((o) => o.id === 12)), { type: 'reply', cmd: 'leave', data: { room: 'news' }, id: 12, ms: 'number' });
    cli.send({ cmd: 'rooms', id: 13 });
    assert.deepEqual(stable(await cli.next((o) => o.id === 13)), { type: 'reply', cmd: 'rooms', data: ['lobby'], id: 13 });
    cli.send({ cmd: 'status', id: 14 });
    const status = (await cli.next((o) => o.id === 14)).data as Record<string, unknown>;
    assert.deepEqual({ ...status, id: typeof status.id }, { url, namespace: '/', state: 'connected', id: 'string', transport: 'websocket', user: 'ada', rooms: ['lobby'] });

    cli.send({ cmd: 'quit', id: 15 });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'reply')), { type: 'reply', cmd: 'quit', id: 15 });
    assert.deepEqual(stable(await cli.next(() => true)), { type: 'state', state: 'disconnected', previous: 'connected', reason: 'client_closed' });
    assert.equal(await cli.exited, 0);
  });

  test('over SSE (no WebSocket at all) every event is shown, whatever its name, and a server request is answered null', async () => {
    const cli = launch([url, '--json', '--transport', 'sse', '--auth', '{"name":"sse-user"}']);
    const connected = await cli.next((o) => o.type === 'state');
    assert.deepEqual([connected.state, connected.transport], ['connected', 'sse']);
    cli.send({ cmd: 'join', room: 'news', id: 1 });
    const { epoch, offset } = ((await cli.next((o) => o.id === 1)).data as { position: { epoch: string; offset: number } }).position;

    // Names the tool was never told about, from the server's side.
    await sb.to('news').publish('never-announced', { over: 'sse' });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'event')), {
      type: 'event',
      event: 'never-announced',
      data: { over: 'sse' },
      room: 'news',
      position: { epoch, offset: offset + 1 },
    });
    cli.send({ cmd: 'request', event: 'ask-me', data: 'anyone?', id: 2 });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'event')), { type: 'event', event: 'unheard-question', data: 'anyone?' });
    assert.deepEqual(stable(await cli.next((o) => o.id === 2)), { type: 'reply', cmd: 'request', data: null, id: 2, ms: 'number' });

    cli.send({ cmd: 'quit' });
    assert.equal(await cli.exited, 0);
  });

  test('bad lines get one error line each (with the id when there is one) and the session goes on', async () => {
    const cli = launch([url, '--json']);
    cli.child.stdin.write('not json\n');
    assert.deepEqual(stable(await cli.next((o) => o.type === 'error')), { type: 'error', code: 'bad_command', message: `not JSON: Unexpected token 'o', "not json" is not valid JSON` });
    cli.send({ cmd: 'fly', id: 1 });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'error')), {
      type: 'error',
      code: 'bad_command',
      message: '"cmd" must be one of join, leave, emit, request, history, presence, rooms, status, reconnect, help, quit',
      id: 1,
    });
    cli.send({ cmd: 'join', id: 2 });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'error')), { type: 'error', code: 'bad_command', message: 'join needs "room" (a non-empty string)', id: 2 });
    cli.send({ cmd: 'emit', event: 'x', colour: 'red', id: 3 });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'error')), { type: 'error', code: 'bad_command', message: 'emit has no field "colour"', id: 3 });
    cli.send({ cmd: 'emit', event: 'connect', id: 4 });
    assert.deepEqual(stable(await cli.next((o) => o.type === 'error')), { type: 'error', cmd: 'emit', code: 'bad_request', message: '"connect" is a reserved event name (lifecycle events cannot be emitted)', id: 4 });
    cli.send({ cmd: 'request', event: 'echo', data: 'still here', id: 5 });
    assert.equal((await cli.next((o) => o.id === 5)).data, 'still here');
    // End of input: the pending request is answered before the command exits.
    cli.send({ cmd: 'request', event: 'echo', data: 'last', id: 6 });
    cli.child.stdin.end();
    assert.equal((await cli.next((o) => o.id === 6)).data, 'last');
    assert.equal(await cli.exited, 0);
  });

  test('a refused handshake is a state line with the server\'s code, and exit status 1', async () => {
    const cli = launch([url, '--json', '--auth', '{"name":"mallory"}']);
    cli.child.stdin.end();
    const state = await cli.next((o) => o.type === 'state');
    assert.deepEqual(stable(state), { type: 'state', state: 'disconnected', previous: 'connecting', reason: 'unauthorized', closeCode: 1008, error: { code: 'forbidden_user', message: 'mallory may not connect' } });
    assert.equal(await cli.exited, 1);
  });
});

describe('switchboard connect -x', () => {
  test('runs the commands in order once connected and prints readable lines', async () => {
    const cli = launch([url, '--auth', '{"name":"cy"}', '-x', 'join lobby', '-x', 'request echo {"a":1}', '-x', 'presence lobby']);
    assert.equal(await cli.exited, 0);
    const text = cli.lines.join('\n');
    assert.match(text, /^\d\d:\d\d:\d\d\.\d{3} \* connected \(handshake_ok\) session \S+ via websocket$/m);
    assert.match(text, /^= joined lobby \([\d.]+ ms\)$/m);
    assert.match(text, /^= \{"a":1\} \([\d.]+ ms\)$/m);
    assert.match(text, /^= cy \([\d.]+ ms\)$/m);
  });

  test('a failed command makes the exit status 1; a bad one is a usage error before connecting', async () => {
    const failing = launch([url, '-x', 'request fail', '--json']);
    assert.equal(await failing.exited, 1);
    assert.ok(failing.lines.map((l) => JSON.parse(l) as Record<string, unknown>).some((o) => o.type === 'error' && o.code === 'teapot'));
    const bad = launch([url, '-x', 'request']);
    assert.equal(await bad.exited, 2);
    assert.match(bad.stderr(), /-x 'request': usage: request <event> \[json\]/);
  });
});

describe('switchboard connect with piped text input', () => {
  test('reads one command per line without a prompt, and answers them all before exiting at the end of input', async () => {
    const cli = launch([url]);
    cli.child.stdin.end('join lobby\nrequest echo {"a":1}\nbogus\n');
    assert.equal(await cli.exited, 0);
    const text = cli.lines.join('\n');
    assert.match(text, /^= joined lobby \([\d.]+ ms\)$/m);
    assert.match(text, /^= \{"a":1\} \([\d.]+ ms\)$/m);
    assert.match(text, /^! unknown command "bogus" \(type help for the list\)$/m);
    assert.doesNotMatch(text, /> /);
  });
});

describe('switchboard connect usage', () => {
  for (const [args, message] of [
    [[], /the server URL is missing/],
    [['ftp://x'], /must start with ws:\/\/, wss:\/\/, http:\/\/ or https:\/\//],
    [['ws://x/ws', '--auth', '{nope'], /^switchboard connect: --auth takes the hello's auth payload as JSON, such as '\{"token":"…"\}'; the value given \(not shown: it may be a secret\) is not JSON: unexpected character at position 1$/m],
    [['ws://x/ws', '--transport', 'carrier-pigeon'], /--transport is websocket, sse or polling/],
    [['ws://x/ws', '--header', 'no colon'], /--header is "Name: value"/],
    [['ws://x/ws', '--bogus'], /Unknown option '--bogus'/],
  ] as const) {
    test(`${args.join(' ') || '(nothing)'} → exit 2`, async () => {
      const cli = launch([...args]);
      assert.equal(await cli.exited, 2);
      assert.match(cli.stderr(), message);
    });
  }
});

/**
 * Drives the binary in a pseudo-terminal: each step sends keys, then reads until the
 * expected text shows up (never a fixed sleep). Prints the transcript and the exit status as JSON.
 */
const PTY_DRIVER = String.raw`
import json, os, pty, select, sys, time
argv, steps = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b''
def expect(text, limit=20):
    global out
    end = time.time() + limit
    start = len(out)
    while text.encode() not in out[start:] if text else False:
        if time.time() > end:
            raise SystemExit(json.dumps({'error': 'timed out waiting for ' + text, 'transcript': out.decode(errors='replace')}))
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try: out += os.read(fd, 65536)
            except OSError: break
for keys, text in steps:
    os.write(fd, keys.encode())
    expect(text)
while True:
    try:
        chunk = os.read(fd, 65536)
        if not chunk: break
        out += chunk
    except OSError: break
_, status = os.waitpid(pid, 0)
print(json.dumps({'transcript': out.decode(errors='replace'), 'status': os.WEXITSTATUS(status)}))
`;

function runInTerminal(argv: string[], steps: Array<[keys: string, expect: string]>): Promise<{ transcript: string; status: number; error?: string }> {
  return new Promise((resolve, reject) => {
    const python = spawn('python3', ['-c', PTY_DRIVER, JSON.stringify(argv), JSON.stringify(steps)], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    python.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    python.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    python.on('error', reject);
    python.on('exit', () => {
      try {
        resolve(JSON.parse(stdout || stderr) as { transcript: string; status: number });
      } catch {
        reject(new Error(`pty driver failed: ${stderr}`));
      }
    });
  });
}

describe('switchboard connect (interactive, in a terminal)', () => {
  test('prompt with the state, commands, readable events, one-line errors, up-arrow history, tab completion, quit', async () => {
    const steps: Array<[string, string]> = [
      ['', 'connected> '],
      ['join news\r', '= joined news (durable, at @'],
      ['request echo {"x":1}\r', '= {"x":1} ('],
      ['\x1b[A\r', '= {"x":1} ('], // up arrow: the same request again
      ['request fail\r', '! request: teapot: I am a teapot ('],
      ['emit say {bad\r', '! bad JSON:'],
      ['bogus\r', '! unknown command "bogus" (type help for the list)'],
      ['pre', 'pre'],
      ['\t', 'ence '], // tab completes the command name (readline writes the missing letters)
      ['news\r', '! presence: presence_not_tracked'],
      ['request post {"n":9}\r', '< story [news @'],
      ['quit\r', '* disconnected (client_closed)'],
    ];
    const result = await runInTerminal([process.execPath, BIN, 'connect', url], steps);
    assert.equal(result.error, undefined, result.error ?? '');
    assert.equal(result.status, 0);
    const lines = result.transcript.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '\n').split(/[\r\n]+/).filter(Boolean);
    assert.ok(lines.includes('Connecting to ' + url + '. Type help for the commands, quit to leave.'));
    assert.ok(lines.some((l) => /^\d\d:\d\d:\d\d\.\d{3} \* connected \(handshake_ok\) session \S+ via websocket$/.test(l)));
    assert.equal(lines.filter((l) => /^= \{"x":1\} \([\d.]+ ms\)$/.test(l)).length, 2, 'the request ran twice (typed, then from history)');
    assert.ok(lines.some((l) => /^\d\d:\d\d:\d\d\.\d{3} < story \[news @[\w-]+:\d+\] \{"n":9\}$/.test(l)), 'the durable event, with its room and position');
    assert.ok(lines.some((l) => l.startsWith('connecting> ')), 'the prompt showed the state before the welcome');
  });
});
