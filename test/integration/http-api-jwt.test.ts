/**
 * JWT credentials of the HTTP API, signed in the test with jose: a shared secret, a public
 * key, and a key set fetched from a JWKS URL; expired, forged and misdirected tokens are
 * refused with 401, and the authorize hook can scope a token by its claims.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { BareClient } from '../helpers/bare-client.js';
import { type ApiNode, callApi, startApiNode } from '../helpers/http-api.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const secretKey = new TextEncoder().encode(SECRET);

function token(claims: Record<string, unknown>, options: { expiresIn?: string | number; issuer?: string; audience?: string; key?: Parameters<SignJWT['sign']>[0]; alg?: string; kid?: string } = {}): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'HS256', ...(options.kid && { kid: options.kid }) }).setSubject('backend-1').setIssuedAt();
  if (options.expiresIn !== undefined) jwt.setExpirationTime(options.expiresIn);
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(options.key ?? secretKey);
}

const publish = { room: 'news', event: 'e', data: 1 };

describe('HTTP API with an HS256 secret', () => {
  let node: ApiNode;
  before(async () => {
    node = await startApiNode({
      keys: ['plain-api-key-1234567'],
      jwt: { secret: SECRET, issuer: 'https://auth.example', audience: 'switchboard' },
      // A token may publish only to the rooms its "rooms" claim lists; an API key anywhere.
      authorize: (principal, action) => principal.kind === 'key' || (Array.isArray(principal.claims.rooms) && principal.claims.rooms.includes(action.room)),
    });
    await node.api.ready();
  });
  after(() => node.close());
  const good = (claims: Record<string, unknown> = { rooms: ['news'] }, extra = {}) => token(claims, { expiresIn: '5m', issuer: 'https://auth.example', audience: 'switchboard', ...extra });

  test('a valid token publishes, and reaches the room', async () => {
    const c = await BareClient.open(node.url);
    await c.hello();
    c.send({ type: 'join', ref: 1, room: 'news' });
    await c.next({ type: 'reply', ref: 1 });
    const r = await callApi(node.base, '/publish', { token: await good(), body: publish });
    assert.equal(r.status, 200);
    assert.equal((await c.next({ event: 'e' })).data, 1);
    c.close();
  });

  test('the authorize hook scopes a token by its claims', async () => {
    const r = await callApi(node.base, '/publish', { token: await good({ rooms: ['other'] }), body: publish });
    assert.deepEqual([r.status, r.json.code], [403, 'forbidden']);
    assert.match(String(r.json.message), /^jwt:https:\/\/auth\.example:backend-1 may not publish \(room "news"\)/);
  });

  test('an API key still works next to JWTs', async () => {
    assert.equal((await callApi(node.base, '/publish', { token: 'plain-api-key-1234567', body: publish })).status, 200);
  });

  test('an expired token: 401 unauthorized, "the token has expired"', async () => {
    const expired = await good(undefined, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const r = await callApi(node.base, '/publish', { token: expired, body: publish });
    assert.deepEqual([r.status, r.json.code, r.json.message], [401, 'unauthorized', 'the token has expired']);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="switchboard"');
  });

  test('a forged signature, another issuer or audience, another algorithm: 401 unauthorized', async () => {
    const forged = await token({ rooms: ['news'] }, { expiresIn: '5m', issuer: 'https://auth.example', audience: 'switchboard', key: new TextEncoder().encode('another-secret-of-at-least-32-bytes!!') });
    const wrongIssuer = await good(undefined, { issuer: 'https://evil.example' });
    const wrongAudience = await good(undefined, { audience: 'someone-else' });
    const hs512 = await good(undefined, { alg: 'HS512' });
    for (const [what, t] of [['forged', forged], ['issuer', wrongIssuer], ['audience', wrongAudience], ['HS512', hs512]] as const) {
      const r = await callApi(node.base, '/publish', { token: t, body: publish });
      assert.deepEqual([r.status, r.json.code], [401, 'unauthorized'], what);
      assert.match(String(r.json.message), /^the token was refused: /, what);
    }
    const garbage = await callApi(node.base, '/publish', { token: 'not.a.jwt', body: publish });
    assert.deepEqual([garbage.status, garbage.json.code], [401, 'unauthorized']);
  });
});

describe('HTTP API with a public key and with a JWKS URL', () => {
  let jwksServer: Server;
  let jwksUrl: string;
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;
  before(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    ec = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' };
    jwksServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  after(() => jwksServer.close());

  test('RS256 with a PEM public key', async () => {
    const node = await startApiNode({ jwt: { publicKey: await exportSPKI(rsa.publicKey) } });
    const good = await token({}, { alg: 'RS256', key: rsa.privateKey, expiresIn: '1m' });
    assert.equal((await callApi(node.base, '/publish', { token: good, body: publish })).status, 200);
    const hmac = await token({}, { expiresIn: '1m' });
    assert.equal((await callApi(node.base, '/publish', { token: hmac, body: publish })).status, 401, 'an HS256 token is not accepted for an RSA key');
    await node.close();
  });

  test('ES256 from a JWKS URL; a key the set does not hold is refused', async () => {
    const node = await startApiNode({ jwt: { jwks: jwksUrl } });
    const good = await token({}, { alg: 'ES256', key: ec.privateKey, kid: 'ec-1', expiresIn: '1m' });
    assert.equal((await callApi(node.base, '/publish', { token: good, body: publish })).status, 200);
    const stranger = await generateKeyPair('ES256');
    const unknown = await token({}, { alg: 'ES256', key: stranger.privateKey, kid: 'ec-2', expiresIn: '1m' });
    const r = await callApi(node.base, '/publish', { token: unknown, body: publish });
    assert.deepEqual([r.status, r.json.code], [401, 'unauthorized']);
    await node.close();
  });
});
