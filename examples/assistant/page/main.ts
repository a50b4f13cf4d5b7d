/**
 * The assistant page: a conversation (`chat:<#fragment>`, default `chat:welcome`) shared by
 * every tab that opens it. Questions go to the server with `ask`; the answers come back as
 * token streams in the conversation's durable room and grow on screen as they are written.
 * The reader keeps its position and messages in sessionStorage: reload mid-answer and the
 * answer goes on from where it was, with no word repeated or missing. Stop asks the server
 * to cancel the answers still streaming (`reader.cancel(id)`): every tab sees them end, stopped.
 */
import { connect } from '../../../src/client/index.js';
import { type TokenMessage, TokenStreamReader } from '../../../src/token-streams/client/index.js';
import { showConnection } from './connection-status.js';
import { renderMessage } from './message-view.js';

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const conversation = decodeURIComponent(location.hash.slice(1)) || 'welcome';
element('conversation-name').textContent = conversation;

const client = connect(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
const reader = new TokenStreamReader(client, `chat:${conversation}`, { storage: sessionStorage });
const list = element<HTMLOListElement>('messages');

function show(message: TokenMessage): void {
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  renderMessage(list, message);
  if (nearBottom) list.scrollTop = list.scrollHeight;
}

reader.on('reset', (messages) => {
  for (const message of messages) show(message);
});
reader.on('message', show);
reader.on('error', (err) => console.warn(`conversation: ${err.message}`));
showConnection(element('connection-status'), element('connection-text'), client);

const form = element<HTMLFormElement>('ask-form');
const input = element<HTMLTextAreaElement>('question');
const problem = element('ask-error');
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  problem.textContent = '';
  // Buffered while offline and sent once connected; the answer arrives through the room.
  client.emitWithAck('ask', { conversation, text }, { timeout: 30_000 }).then(
    () => {
      if (input.value.trim() === text) input.value = '';
    },
    (err: Error) => {
      problem.textContent = `Not sent: ${err.message}`;
    },
  );
});
// Stop: shown while an answer streams; cancels it for every tab (the server stops the generator).
const stop = element<HTMLButtonElement>('stop');
const streamingAnswers = (): TokenMessage[] => reader.messages.filter((m) => (m.meta as { role?: string } | undefined)?.role === 'assistant' && !m.done && !m.failed);
const showStop = (): void => {
  stop.hidden = streamingAnswers().length === 0;
};
reader.on('message', showStop);
reader.on('reset', showStop);
stop.addEventListener('click', () => {
  problem.textContent = '';
  for (const answer of streamingAnswers()) {
    reader.cancel(answer.id).catch((err: Error & { code?: string }) => {
      // It ended by itself meanwhile: nothing to stop.
      if (err.code !== 'stream_closed') problem.textContent = `Not stopped: ${err.message}`;
    });
  }
});
input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    form.requestSubmit();
  }
});

// For tests and the curious: the messages as the reader holds them, and every text each
// message showed since the page loaded (one entry per change).
const shown = new Map<string, string[]>();
const record = (message: TokenMessage): void => {
  const texts = shown.get(message.id) ?? [];
  if (texts.at(-1) !== message.text) texts.push(message.text);
  shown.set(message.id, texts);
};
reader.on('message', record);
reader.on('reset', (messages) => messages.forEach(record));
Object.assign(window, {
  assistantPage: {
    messages: (): TokenMessage[] => reader.messages,
    shown: (id: string): string[] => shown.get(id) ?? [],
    ready: (): Promise<void> => reader.ready,
    state: (): string => client.state,
  },
});
