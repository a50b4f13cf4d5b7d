/**
 * The assistant's "model": a fake token generator, deterministic and local (no model, no
 * network). The answer to a question is always the same text, and it comes in the same
 * batches of one to three tokens at the same pauses of 50 to 100 ms, so tests know the exact
 * text a page must end up showing.
 */

/** What the assistant says, chosen by the question's hash. */
const PARAGRAPHS = [
  'Streaming an answer token by token feels fast because the first words arrive at once, while the rest is still being written.',
  'Each chunk is published to a durable room, so every tab that shows the conversation gets the same chunks in the same order.',
  'When the page reloads, the reader keeps its position in session storage and asks the room for what came after it: nothing is repeated and nothing is missing.',
  'When the network drops, the client reconnects and rejoins the room from the last position it saw, and the answer goes on where it stopped.',
  'A tab opened after the answer finished gets it whole, in one piece, from the finish event that carries the complete text.',
  'Several answers can stream at once in one conversation: every chunk names its message, and the reader keeps them apart.',
];

/** FNV-1a: a small, stable hash of the question. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: the pauses and batch sizes, from the question's hash. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The whole answer to `question`: what a page shows once the stream finished. */
export function answerFor(question: string): string {
  const h = hash(question.trim().toLowerCase());
  const first = h % PARAGRAPHS.length;
  const picked = [0, 1, 2].map((k) => PARAGRAPHS[(first + k * 2) % PARAGRAPHS.length]);
  return `You asked: "${question.trim()}". ${picked.join(' ')}`;
}

/** The answer cut into tokens: words with the space before them, as models emit them. */
export function tokensOf(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** One step of the generator: tokens to append after a pause. */
export interface TokenBatch {
  /** Pause before these tokens, in ms (scaled by the generator's `pace`). */
  delay: number;
  tokens: string[];
}

/** The answer as batches of 1 to 3 tokens, 50 to 100 ms apart; `pace` multiplies the pauses (1 = as documented). */
export function answerBatches(question: string, pace = 1): TokenBatch[] {
  const random = seeded(hash(question));
  const tokens = tokensOf(answerFor(question));
  const batches: TokenBatch[] = [];
  for (let i = 0; i < tokens.length; ) {
    const size = 1 + Math.floor(random() * 3);
    batches.push({ delay: Math.round((50 + random() * 50) * pace), tokens: tokens.slice(i, i + size) });
    i += size;
  }
  return batches;
}
