import { startTokenStream, type TokenStream, type TokenStreamPublisher } from '../../src/token-streams/index.js';
import { answerBatches } from './answer-generator.js';

/** Meta of each message of a conversation: who speaks. */
export interface SpeakerMeta {
  role: 'user' | 'assistant';
}

export interface AnswerWorkerOptions {
  /** Multiplies the generator's pauses (50 to 100 ms): tests slow it down or speed it up. Default 1. */
  pace?: number;
}

/**
 * The assistant's worker: it takes questions and streams answers to the conversation's
 * durable room through a publisher — the Switchboard itself, or a redis `Emitter` as a worker
 * process with no clients would use. It never touches a socket: the page gets everything
 * from the room. An answer whose stream is cancelled (a reader's Stop, accepted by
 * `acceptTokenStreamCancels()` in the server) stops at once: its next batch is never made.
 */
export class AnswerWorker {
  readonly #publisher: TokenStreamPublisher;
  readonly #pace: number;
  readonly #streaming = new Map<TokenStream, ReturnType<typeof setTimeout> | undefined>();
  #closed = false;

  constructor(publisher: TokenStreamPublisher, options: AnswerWorkerOptions = {}) {
    this.#publisher = publisher;
    this.#pace = options.pace ?? 1;
  }

  /**
   * Post the question to the room (a one-chunk message), then stream the answer. Resolves
   * with both message ids once the question is published; the answer goes on by itself.
   */
  async ask(room: string, question: string): Promise<{ question: string; answer: string }> {
    if (this.#closed) throw new Error('the worker is shutting down');
    const asked = startTokenStream(this.#publisher, room, { meta: { role: 'user' } satisfies SpeakerMeta });
    asked.append(question);
    await asked.finish();
    const answer = startTokenStream(this.#publisher, room, { meta: { role: 'assistant' } satisfies SpeakerMeta });
    // A reader pressed Stop (or the stream failed): the generator stops here, no token more is made.
    answer.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(this.#streaming.get(answer));
        this.#streaming.delete(answer);
      },
      { once: true },
    );
    this.#stream(answer, answerBatches(question, this.#pace), 0);
    return { question: asked.id, answer: answer.id };
  }

  /** Streams still being written. */
  get streaming(): number {
    return this.#streaming.size;
  }

  #stream(stream: TokenStream, batches: ReturnType<typeof answerBatches>, next: number): void {
    const batch = batches[next];
    if (!batch) {
      this.#streaming.delete(stream);
      stream.finish().catch((err: unknown) => console.error(`answer ${stream.id}: ${(err as Error).message}`));
      return;
    }
    const timer = setTimeout(() => {
      if (stream.signal.aborted) return;
      for (const token of batch.tokens) stream.append(token);
      this.#stream(stream, batches, next + 1);
    }, batch.delay);
    this.#streaming.set(stream, timer);
  }

  /** Stop: every answer still streaming ends with `fail` (`interrupted`), so no page waits for it for ever. */
  async close(): Promise<void> {
    this.#closed = true;
    const open = [...this.#streaming.entries()];
    this.#streaming.clear();
    await Promise.all(
      open.map(async ([stream, timer]) => {
        clearTimeout(timer);
        // When even this cannot be published (Redis away), readers keep the text they have.
        await stream.fail('interrupted', 'the server shut down').catch(() => {});
      }),
    );
  }
}
