/**
 * The provider's awareness link (src/yjs/client/awareness-link.ts) between real y-protocols
 * Awareness instances, relayed through a third one that plays the host's part (apply, pass
 * on, remove the states of whoever leaves): newcomers are greeted at once, a client back
 * from a disconnect is accepted again by peers that saw its state removed, and a client
 * that is offline forgets the others.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { AwarenessLink } from '../../src/yjs/client/awareness-link.js';
import { eventually } from '../helpers/server.js';

const open: Awareness[] = [];
afterEach(() => {
  for (const awareness of open.splice(0)) awareness.destroy();
});

/** The host's part: one awareness per document, passing every update on to the others. */
class Relay {
  readonly awareness = new Awareness(new Y.Doc());
  readonly links = new Map<string, AwarenessLink>();

  constructor() {
    // The host holds no state of its own.
    this.awareness.setLocalState(null);
    open.push(this.awareness);
  }

  connect(name: string, link: AwarenessLink): void {
    this.links.set(name, link);
  }

  fromClient(from: string, update: Uint8Array): void {
    applyAwarenessUpdate(this.awareness, update, from);
    for (const [name, link] of this.links) if (name !== from && link.live) link.receive(update);
  }

  /** The client's socket went: remove its state and tell the others, as the host does. */
  removeClient(name: string, clientID: number): void {
    this.links.delete(name);
    removeAwarenessStates(this.awareness, [clientID], 'host');
    const update = encodeAwarenessUpdate(this.awareness, [clientID]);
    for (const link of this.links.values()) if (link.live) link.receive(update);
  }
}


function person(relay: Relay, name: string): { awareness: Awareness; link: AwarenessLink; sent: Uint8Array[] } {
  const awareness = new Awareness(new Y.Doc());
  open.push(awareness);
  const sent: Uint8Array[] = [];
  const link = new AwarenessLink(awareness, (update) => {
    sent.push(update);
    relay.fromClient(name, update);
  });
  relay.connect(name, link);
  awareness.setLocalStateField('user', { name });
  return { awareness, link, sent };
}

const names = (awareness: Awareness): string[] =>
  [...awareness.getStates().values()].map((state) => (state.user as { name: string } | undefined)?.name ?? '?').sort();

test('a newcomer is greeted with the state of everyone already there, without waiting for their renewal', async () => {
  const relay = new Relay();
  const ada = person(relay, 'ada');
  ada.link.setLive(true);
  ada.link.announce();
  await eventually(() => relay.awareness.getStates().size === 1, 'ada at the relay');

  // Bob arrives: he learns of ada from the host's sync (here: the relay's states), ada from his announcement.
  const bob = person(relay, 'bob');
  bob.link.setLive(true);
  bob.link.receive(encodeAwarenessUpdate(relay.awareness, [...relay.awareness.getStates().keys()]));
  bob.link.announce();
  await eventually(() => names(ada.awareness).join() === 'ada,bob', 'ada to see bob');
  await eventually(() => names(bob.awareness).join() === 'ada,bob', 'bob to see ada');
});

test('back from a disconnect, a client is seen again by peers that saw its state removed', async () => {
  const relay = new Relay();
  const ada = person(relay, 'ada');
  const bob = person(relay, 'bob');
  for (const p of [ada, bob]) {
    p.link.setLive(true);
    p.link.announce();
  }
  await eventually(() => names(ada.awareness).join() === 'ada,bob' && names(bob.awareness).join() === 'ada,bob', 'both to see both');

  bob.link.setLive(false);
  relay.removeClient('bob', bob.awareness.clientID);
  assert.deepEqual(names(bob.awareness), ['bob'], 'offline, bob forgets the others');
  await eventually(() => names(ada.awareness).join() === 'ada', 'ada to see bob go');

  relay.connect('bob', bob.link);
  bob.link.setLive(true);
  bob.link.receive(encodeAwarenessUpdate(relay.awareness, [...relay.awareness.getStates().keys()]));
  bob.link.announce();
  await eventually(() => names(ada.awareness).join() === 'ada,bob', 'ada to see bob again (his clock moved past the removal)');
  assert.deepEqual(names(bob.awareness), ['ada', 'bob'], 'and bob sees ada again');
});

test('only the local state is sent, the latest of a burst of changes, and nothing while not live', async () => {
  const relay = new Relay();
  const ada = person(relay, 'ada');
  ada.awareness.setLocalStateField('cursor', 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(ada.sent.length, 0, 'nothing before the link is live');
  ada.link.setLive(true);
  for (let i = 2; i < 40; i++) ada.awareness.setLocalStateField('cursor', i);
  await eventually(() => ada.sent.length > 0, 'a send');
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(ada.sent.length, 1, 'one message for the burst');
  assert.equal(relay.awareness.getStates().get(ada.awareness.clientID)?.cursor, 39);

  ada.link.close();
  assert.equal(relay.awareness.getStates().has(ada.awareness.clientID), false, 'close() removes the state at the others');
});
