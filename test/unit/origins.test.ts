import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OriginPolicy } from '../../src/server/origins.js';

const at = (host?: string): { headers: Record<string, string>; url: string; address: string } => ({
  headers: host === undefined ? {} : { host },
  url: '/ws',
  address: '127.0.0.1',
});

test('default: the own origin from the Host header (any scheme, default ports ignored), localhost outside production', () => {
  const dev = new OriginPolicy(undefined, false);
  assert.equal(dev.allows('https://chat.example.com', at('chat.example.com')), true);
  assert.equal(dev.allows('https://chat.example.com', at('chat.example.com:443')), true);
  assert.equal(dev.allows('http://chat.example.com:8080', at('Chat.Example.com:8080')), true);
  assert.equal(dev.allows('http://chat.example.com:8081', at('chat.example.com:8080')), false);
  assert.equal(dev.allows('https://chat.example.com.evil.example', at('chat.example.com')), false);
  assert.equal(dev.allows('https://chat.example.com', at()), false, 'no Host header');
  for (const local of ['http://localhost:5173', 'https://localhost', 'http://127.0.0.1:1', 'http://[::1]:3000']) {
    assert.equal(dev.allows(local, at('chat.example.com')), true, local);
  }
  assert.equal(dev.allows('file://localhost', at('chat.example.com')), false, 'only http(s) localhost');
  assert.equal(dev.allows('null', at('chat.example.com')), false);
  assert.equal(dev.allows('http://localhost.evil.example', at('chat.example.com')), false);
  const prod = new OriginPolicy(undefined, true);
  assert.equal(prod.allows('http://localhost:5173', at('chat.example.com')), false);
  assert.equal(prod.allows('https://chat.example.com', at('chat.example.com')), true);
  assert.match(prod.refusal('http://localhost:5173'), /"http:\/\/localhost:5173".*allowedOrigins/);
});

test('a list: exact origins after normalizing case and default ports; custom schemes and "null" when listed', () => {
  const policy = new OriginPolicy(['https://App.example.com:443', 'capacitor://localhost', 'null'], false);
  assert.equal(policy.allows('https://app.example.com', at('x')), true);
  assert.equal(policy.allows('https://app.example.com/', at('x')), true);
  assert.equal(policy.allows('capacitor://localhost', at('x')), true);
  assert.equal(policy.allows('null', at('x')), true);
  assert.equal(policy.allows('http://app.example.com', at('x')), false);
  assert.equal(policy.allows('http://localhost:3000', at('localhost:3001')), false, 'a list replaces the default localhost rule');
  assert.match(policy.refusal('https://evil.example'), /https:\/\/app\.example\.com/);
  for (const bad of ['app.example.com', 'https://app.example.com/path', 'https://user@app.example.com', '', 'https://']) {
    assert.throws(() => new OriginPolicy([bad]), { name: 'TypeError', message: /allowedOrigins/ }, bad);
  }
  assert.throws(() => new OriginPolicy('everyone' as never), TypeError);
});

test("a list keeps the server's own origin ('self'): listing a dev server does not lock out the server's page", () => {
  const policy = new OriginPolicy(['http://localhost:5173'], true);
  assert.equal(policy.allows('http://localhost:5173', at('chat.example.com')), true);
  assert.equal(policy.allows('https://chat.example.com', at('chat.example.com')), true, 'the page the server itself serves');
  assert.equal(policy.allows('http://127.0.0.1:3000', at('127.0.0.1:3000')), true);
  assert.equal(policy.allows('https://other.example', at('chat.example.com')), false);
  assert.match(policy.refusal('https://other.example'), /allowed: the server's own origin, http:\/\/localhost:5173/);
  const written = new OriginPolicy(['self', 'https://app.example.com'], true);
  assert.equal(written.allows('https://chat.example.com', at('chat.example.com')), true, "'self' may be written: it says the same");
  assert.equal(written.allows('https://app.example.com', at('chat.example.com')), true);
  assert.equal(written.allows('self', at('chat.example.com')), false, "'self' is no origin a page can send");
  const decided = new OriginPolicy((origin) => origin === 'https://app.example.com');
  assert.equal(decided.allows('https://chat.example.com', at('chat.example.com')), false, 'a function decides alone: the way to refuse the own origin');
});

test("'*' and functions", () => {
  assert.equal(new OriginPolicy('*').allows('https://any.example', at()), true);
  assert.equal(new OriginPolicy('*').allowsAny, true);
  const fn = new OriginPolicy((origin) => origin.endsWith('.example.com'));
  assert.equal(fn.allows('https://a.example.com', at()), true);
  assert.equal(fn.allows('https://a.example.org', at()), false);
  assert.equal(new OriginPolicy((() => 'yes') as never).allows('https://a', at()), false, 'only true allows');
});
