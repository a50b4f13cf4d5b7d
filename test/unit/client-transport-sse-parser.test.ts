/** The SDK's reader of the event-stream format (HTML standard, server-sent events). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser } from '../../src/client/sse-parser.js';

function parseAll(...chunks: string[]): { event: string; data: string }[] {
  const parser = new SseParser();
  return chunks.flatMap((chunk) => parser.feed(chunk));
}

describe('SseParser', () => {
  it('dispatches on a blank line, with the event type or `message`', () => {
    assert.deepEqual(parseAll('event: open\ndata: {"cid":"x"}\n\ndata: {"type":"ping"}\n\n'), [
      { event: 'open', data: '{"cid":"x"}' },
      { event: 'message', data: '{"type":"ping"}' },
    ]);
  });

  it('accepts CRLF, LF and CR line ends, a CRLF split across chunks included', () => {
    assert.deepEqual(parseAll('data: a\r\n\r\ndata: b\r\rdata: c\r', '\n\r', '\n'), [
      { event: 'message', data: 'a' },
      { event: 'message', data: 'b' },
      { event: 'message', data: 'c' },
    ]);
  });

  it('joins data lines with a line feed, and keeps colons in values', () => {
    assert.deepEqual(parseAll('data: {"a":\ndata:1}\n\n'), [{ event: 'message', data: '{"a":\n1}' }]);
    assert.deepEqual(parseAll('data:no-space: x\n\n'), [{ event: 'message', data: 'no-space: x' }]);
  });

  it('waits for the blank line, across chunks, and ignores comments, ids, retry and unknown fields', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.feed(': padding for proxies\nid: 7\nretry: 10\nfoo: bar\ndata: {"x"'), []);
    assert.deepEqual(parser.feed(':1}\n'), []);
    assert.deepEqual(parser.feed('\n'), [{ event: 'message', data: '{"x":1}' }]);
  });

  it('does not dispatch an event without data, and resets the type after each event', () => {
    assert.deepEqual(parseAll('event: close\n\ndata: x\n\n'), [{ event: 'message', data: 'x' }]);
  });
});
