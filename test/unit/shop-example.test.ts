/**
 * The pure parts of the shop example (examples/notifications): the seller page's fold of its
 * user channel (idempotent: a publication seen twice changes nothing) and the signed session
 * cookie (a page cannot name another user).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Notice } from '../../examples/notifications/notices.js';
import { MAX_NOTICES, NoticeBook } from '../../examples/notifications/page/notice-book.js';
import { checkName, parseCookies, SessionCookies } from '../../examples/notifications/sign-in.js';

const notice = (id: string, at: number): Notice => ({ id, kind: 'order', title: id, text: '', at });

describe('NoticeBook', () => {
  test('a notice or a read mark seen twice changes nothing; unread counts what has no mark', () => {
    const book = new NoticeBook();
    assert.equal(book.add(notice('a', 1)), true);
    assert.equal(book.add(notice('b', 2)), true);
    assert.equal(book.add(notice('a', 1)), false);
    assert.equal(book.unread, 2);
    assert.deepEqual(book.markRead(['a']), ['a']);
    assert.deepEqual(book.markRead(['a', 'unknown']), []);
    assert.equal(book.unread, 1);
    assert.deepEqual(book.list().map((n) => n.id), ['b', 'a'], 'newest first');
  });

  test('survives a save and a load; keeps at most MAX_NOTICES, dropping the oldest with its mark', () => {
    const book = new NoticeBook();
    for (let i = 0; i <= MAX_NOTICES; i++) book.add(notice(`n${i}`, i));
    book.markRead(['n0', 'n1']);
    assert.equal(book.list().length, MAX_NOTICES);
    assert.equal(book.isRead('n1'), true);
    const again = NoticeBook.from(JSON.parse(JSON.stringify(book.toJSON())));
    assert.deepEqual(again.list(), book.list());
    assert.equal(again.unread, book.unread);
  });
});

describe('SessionCookies', () => {
  test('verifies what it issued, refuses a changed name, a changed signature, another secret', () => {
    const cookies = new SessionCookies('secret');
    const value = cookies.issue('ada');
    assert.equal(cookies.verify(value), 'ada');
    assert.equal(cookies.verify(value.replace('ada.', 'bob.')), undefined);
    assert.equal(cookies.verify(`${value.slice(0, -1)}x`), undefined);
    assert.equal(cookies.verify('ada'), undefined);
    assert.equal(cookies.verify(undefined), undefined);
    assert.equal(new SessionCookies('other').verify(value), undefined);
    assert.equal(parseCookies(`x=1; ${cookies.setCookie('ada').split(';')[0]}`).shop_session, value);
  });

  test('names are plain user ids', () => {
    assert.equal(checkName(' Ada '), 'ada');
    for (const bad of ['', '1ada', 'a b', 'a'.repeat(33), 42]) assert.equal(checkName(bad), undefined);
  });
});
