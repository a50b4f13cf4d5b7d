import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import type { SyncReply } from '../../src/yjs/messages.js';

interface Received {
  event: string;
  data: { document: string; update: Uint8Array };
}

/**
 * A client speaking the yjs:* events by hand (no provider): its own Y.Doc and Awareness,
 * and every yjs:update / yjs:awareness event it received, in order, to wait on.
 */
export class WireEditor {
  readonly doc = new Y.Doc();
  readonly awareness = new Awareness(this.doc);
  readonly received: Received[] = [];
  readonly client: SwitchboardClient;
  readOnly: boolean | undefined;
  #waiters: (() => void)[] = [];

  constructor(
    url: string,
    readonly document: string,
    auth?: Record<string, unknown>,
  ) {
    this.client = connect(url, auth ? { auth } : {});
    clearInterval(this.awareness._checkInterval);
    for (const event of ['yjs:update', 'yjs:awareness']) {
      this.client.on(event, (data: Received['data']) => {
        this.received.push({ event, data });
        if (data.document === this.document) {
          if (event === 'yjs:update') Y.applyUpdate(this.doc, data.update, 'remote');
          else applyAwarenessUpdate(this.awareness, data.update, 'remote');
        }
        for (const wake of this.#waiters.splice(0)) wake();
      });
    }
  }

  static async open(url: string, document: string, auth?: Record<string, unknown>): Promise<WireEditor> {
    const editor = new WireEditor(url, document, auth);
    await editor.client.join(document);
    await editor.sync();
    return editor;
  }

  get text(): string {
    return this.doc.getText('t').toString();
  }

  /** The sync handshake of the contract: apply the server's part, send ours. */
  async sync(): Promise<SyncReply> {
    const reply = (await this.client.emitWithAck('yjs:sync', { document: this.document, stateVector: Y.encodeStateVector(this.doc) })) as SyncReply;
    Y.applyUpdate(this.doc, reply.update, 'remote');
    applyAwarenessUpdate(this.awareness, reply.awareness, 'remote');
    this.readOnly = reply.readOnly;
    const missing = Y.encodeStateAsUpdate(this.doc, reply.stateVector);
    if (!reply.readOnly && missing.byteLength > 2) await this.send(missing);
    return reply;
  }

  /** Type `text` at the end, and send the update; resolves with the reply. */
  async type(text: string): Promise<unknown> {
    let update: Uint8Array | undefined;
    const capture = (u: Uint8Array): void => {
      update = u;
    };
    this.doc.once('update', capture);
    this.doc.getText('t').insert(this.doc.getText('t').length, text);
    return this.send(update as Uint8Array);
  }

  send(update: unknown): Promise<unknown> {
    return this.client.emitWithAck('yjs:update', { document: this.document, update });
  }

  /** Set our awareness state and send it (as a request, to hear a refusal). */
  async present(state: Record<string, unknown>): Promise<unknown> {
    this.awareness.setLocalState(state);
    return this.sendAwareness(encodeAwarenessUpdate(this.awareness, [this.doc.clientID]));
  }

  sendAwareness(update: unknown): Promise<unknown> {
    return this.client.emitWithAck('yjs:awareness', { document: this.document, update });
  }

  /** Resolves when `check` holds, re-checked on every event received. */
  async until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
    const started = Date.now();
    while (!check()) {
      if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.awareness.destroy();
    this.client.close();
  }
}
