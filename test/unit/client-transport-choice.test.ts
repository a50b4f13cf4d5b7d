/** Which transport the SDK tries, in which order, what it remembers, and what it reports when all fail. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { CloseOutcome } from '../../src/client/close-outcome.js';
import type { TransportClosed } from '../../src/client/client-transport.js';
import { HttpEndpoint } from '../../src/client/http-endpoint.js';
import { resolveOptions } from '../../src/client/options.js';
import { forgetRememberedTransports, isTransportFailure, rememberedTransport, TransportChoice, usableTransports } from '../../src/client/transport-choice.js';
import type { WebSocketConstructor } from '../../src/client/websocket-like.js';
import { SwitchboardError } from '../../src/protocol/errors.js';

const FakeWebSocket = class {} as unknown as WebSocketConstructor;
const URL_A = 'ws://a.example/ws';

function failure(message: string): CloseOutcome {
  const error = new SwitchboardError('disconnected', message);
  return { reason: 'transport_error', reconnect: true, details: { error }, connectError: error };
}

beforeEach(() => forgetRememberedTransports());

describe('TransportChoice', () => {
  it('tries the transports in the order asked for, one step per transport failure', () => {
    const choice = new TransportChoice(URL_A, ['websocket', 'sse', 'polling']);
    assert.equal(choice.begin(), 'websocket');
    assert.equal(choice.fallBack(failure('ws'), 'refused'), true);
    assert.equal(choice.current, 'sse');
    assert.equal(choice.fallBack(failure('sse'), 'fetch failed'), true);
    assert.equal(choice.current, 'polling');
    assert.equal(choice.fallBack(failure('polling'), 'fetch failed'), false, 'none left');
    assert.equal(choice.begin(), 'websocket', 'a new round starts from the top');
  });

  it('tries the transport that delivered a welcome first, for every client of that URL', () => {
    const first = new TransportChoice(URL_A, ['websocket', 'sse', 'polling']);
    first.begin();
    first.succeeded('polling');
    assert.equal(rememberedTransport(URL_A), 'polling');
    const later = new TransportChoice(URL_A, ['websocket', 'sse', 'polling']);
    assert.equal(later.begin(), 'polling');
    later.fallBack(failure('polling'), 'x');
    assert.equal(later.current, 'websocket', 'then the others in order of preference');
    later.fallBack(failure('ws'), 'x');
    assert.equal(later.current, 'sse');
    assert.equal(new TransportChoice('ws://b.example/ws', ['websocket', 'sse']).begin(), 'websocket', 'another URL has its own memory');
    assert.equal(new TransportChoice(URL_A, ['websocket', 'sse']).begin(), 'websocket', 'a remembered transport not allowed is skipped');
  });

  it('reports a round where every transport failed as the first failure, naming the others', () => {
    const choice = new TransportChoice(URL_A, ['websocket', 'sse', 'polling']);
    choice.begin();
    const first = failure('could not open a WebSocket to ws://a.example/ws: Unexpected server response: 400');
    choice.fallBack(first, 'Unexpected server response: 400');
    choice.fallBack(failure('sse failed'), 'HTTP 502');
    const last = failure('polling failed');
    assert.equal(choice.fallBack(last, 'fetch failed'), false);
    const outcome = choice.roundOutcome(last, true);
    assert.equal(outcome.reason, 'transport_error');
    assert.equal(outcome.connectError?.code, 'disconnected');
    assert.equal(outcome.connectError?.message, `${first.connectError?.message}; tried sse (HTTP 502), polling (fetch failed) too`);
    assert.equal(outcome.details.error, outcome.connectError);
  });

  it('skips the other HTTP transports of the round when the fallback transports cannot be loaded, not a WebSocket', () => {
    const choice = new TransportChoice(URL_A, ['websocket', 'sse', 'polling']);
    choice.begin();
    choice.fallBack(failure('ws'), 'refused');
    assert.equal(choice.current, 'sse');
    choice.skipHttpTransports();
    assert.equal(choice.fallBack(failure('no chunk'), 'could not load'), false, 'polling would fail the same way');
    assert.equal(choice.roundOutcome(failure('no chunk'), true).connectError?.message, 'ws; tried sse (could not load) too');
    assert.equal(choice.begin(), 'websocket', 'the next round tries them all again');
    choice.fallBack(failure('ws'), 'refused');
    assert.equal(choice.current, 'sse');

    const httpFirst = new TransportChoice(URL_A, ['sse', 'websocket', 'polling']);
    httpFirst.begin();
    httpFirst.skipHttpTransports();
    assert.equal(httpFirst.fallBack(failure('no chunk'), 'could not load'), true);
    assert.equal(httpFirst.current, 'websocket', 'a WebSocket needs no chunk');
    assert.equal(httpFirst.fallBack(failure('ws'), 'refused'), false);
  });

  it('reports a failure the server explained as it is', () => {
    const choice = new TransportChoice(URL_A, ['websocket', 'sse']);
    choice.begin();
    choice.fallBack(failure('ws'), 'refused');
    const refused: CloseOutcome = { reason: 'unauthorized', reconnect: false, details: { closeCode: 1008 } };
    assert.equal(choice.roundOutcome(refused, false), refused);
  });
});

describe('isTransportFailure', () => {
  const closed = (fields: Partial<TransportClosed>): TransportClosed => ({ code: 1006, reason: '', opened: false, errorMessage: undefined, ...fields });

  it('a connection that never opened, or dropped without a word, may work on another transport', () => {
    assert.equal(isTransportFailure(closed({ errorMessage: 'Unexpected server response: 400' }), undefined), true);
    assert.equal(isTransportFailure(closed({ opened: true, code: 1006 }), undefined), true);
    assert.equal(isTransportFailure(closed({ refusal: { code: 'transport_disabled', message: '' } }), undefined), true);
  });

  it('a refusal or close the server explained would be the same on every transport', () => {
    assert.equal(isTransportFailure(closed({ refusal: { code: 'rate_limited', message: '' } }), undefined), false);
    assert.equal(isTransportFailure(closed({ refusal: { code: 'origin_not_allowed', message: '' } }), undefined), false);
    assert.equal(isTransportFailure(closed({ opened: true, code: 1008 }), undefined), false);
    assert.equal(isTransportFailure(closed({ opened: true, code: 1013 }), undefined), false);
    assert.equal(isTransportFailure(closed({ opened: true, code: 1006 }), { code: 'server_full', message: '' }), false);
  });
});

describe('options.transports and options.upgrade', () => {
  it('default to every transport, WebSocket first, and upgrading on', () => {
    const resolved = resolveOptions(URL_A, { WebSocket: FakeWebSocket });
    assert.deepEqual(resolved.transports, ['websocket', 'sse', 'polling']);
    assert.equal(resolved.upgrade, true);
  });

  it('keep the order asked for, and upgrade only when WebSocket is among them', () => {
    assert.deepEqual(resolveOptions(URL_A, { WebSocket: FakeWebSocket, transports: ['polling', 'websocket'] }).transports, ['polling', 'websocket']);
    assert.equal(resolveOptions(URL_A, { WebSocket: FakeWebSocket, transports: ['sse', 'polling'] }).upgrade, false);
    assert.equal(resolveOptions(URL_A, { WebSocket: FakeWebSocket, upgrade: false }).upgrade, false);
  });

  it('without a WebSocket implementation, use the HTTP transports; with only WebSocket asked for, refuse', () => {
    assert.deepEqual(usableTransports(undefined, undefined), ['sse', 'polling']);
    assert.throws(() => usableTransports(['websocket'], undefined), { name: 'TypeError', message: /no WebSocket implementation/ });
  });

  it('refuse an empty list or an unknown transport at connect()', () => {
    assert.throws(() => resolveOptions(URL_A, { WebSocket: FakeWebSocket, transports: [] }), { name: 'TypeError', message: /transports must be a non-empty list/ });
    assert.throws(() => resolveOptions(URL_A, { WebSocket: FakeWebSocket, transports: ['flash' as 'sse'] }), { name: 'TypeError', message: /'websocket', 'sse', 'polling'.*flash/ });
  });
});

describe('HttpEndpoint', () => {
  it('maps the WebSocket URL to the HTTP endpoints under its path, keeping host and query', () => {
    assert.equal(new HttpEndpoint('ws://h.example:8080/ws').url('poll'), 'http://h.example:8080/ws/poll');
    assert.equal(new HttpEndpoint('wss://h.example/rt/').url('sse'), 'https://h.example/rt/sse');
    assert.equal(new HttpEndpoint('ws://h.example/ws?tenant=a#x').url('send', 'C1+/='), 'http://h.example/ws/send?tenant=a&cid=C1%2B%2F%3D');
    assert.equal(new HttpEndpoint('https://h.example/ws').url('close', 'c'), 'https://h.example/ws/close?cid=c');
  });
});
