import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCookies } from '../../src/server/cookies.js';
import { seededRandom } from '../helpers/seeded-random.js';

describe('parseCookies', () => {
  test('splits on ";", the first "=" separates name from value, both trimmed', () => {
    assert.deepEqual(parseCookies(' a=1 ;b = two;c=x=y=z ; d= spaced value '), { a: '1', b: 'two', c: 'x=y=z', d: 'spaced value' });
  });

  test('decodes %xx and drops quotes; a value that does not decode is kept as sent', () => {
    assert.deepEqual(parseCookies('u=caf%C3%A9; q="quoted"; lone=100%; bad=%E0%A4%A; half="x'), {
      u: 'café',
      q: 'quoted',
      lone: '100%',
      bad: '%E0%A4%A',
      half: '"x',
    });
  });

  test('skips pairs without "=" or without a name; keeps empty values; the first of two names wins', () => {
    assert.deepEqual(parseCookies('flag; =v; ;; a=; a=second; b=1'), { a: '', b: '1' });
  });

  test('no header, an empty one, or an array of headers', () => {
    assert.deepEqual(parseCookies(undefined), {});
    assert.deepEqual(parseCookies(''), {});
    assert.deepEqual(parseCookies(['a=1', 'b=2; a=3']), { a: '1', b: '2' });
  });

  test('a cookie named __proto__ is an own property and leaves the prototype alone', () => {
    const cookies = parseCookies('__proto__=x; constructor=y');
    assert.equal(Object.getPrototypeOf(cookies), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(cookies, '__proto__')?.value, 'x');
    assert.equal(cookies.constructor, 'y');
    assert.ok(Object.isFrozen(cookies));
  });

  test('never throws on random headers', () => {
    const random = seededRandom(5);
    const alphabet = [...'ab=;%" \t,\u00e9\ud800E0A4'];
    for (let i = 0; i < 2000; i++) {
      let header = '';
      const length = random.int(0, 40);
      for (let j = 0; j < length; j++) header += random.pick(alphabet);
      const cookies = parseCookies(header);
      for (const value of Object.values(cookies)) assert.equal(typeof value, 'string');
    }
  });
});
