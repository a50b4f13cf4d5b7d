import { type TokenMessage, TokenStreamErrorCode } from '../../../src/token-streams/client/index.js';

/** `data-state` of a message: for styles and tests. `stopped`: a reader pressed Stop (fail code `cancelled`). */
export function stateOf(message: TokenMessage): 'streaming' | 'done' | 'stopped' | 'failed' {
  if (message.failed) return message.error?.code === TokenStreamErrorCode.Cancelled ? 'stopped' : 'failed';
  return message.done ? 'done' : 'streaming';
}

/** Add or update the message's `<li>` in `list` (one per id, in order of appearance). */
export function renderMessage(list: HTMLOListElement, message: TokenMessage): void {
  const id = `message-${message.id}`;
  let item = document.getElementById(id);
  if (!item) {
    item = document.createElement('li');
    item.id = id;
    item.className = 'message';
    const text = document.createElement('p');
    text.className = 'message-text';
    const note = document.createElement('p');
    note.className = 'message-note';
    item.append(text, note);
    list.append(item);
  }
  const role = (message.meta as { role?: string } | undefined)?.role === 'user' ? 'user' : 'assistant';
  item.dataset.role = role;
  item.dataset.state = stateOf(message);
  item.dataset.testid = 'message';
  (item.querySelector('.message-text') as HTMLElement).textContent = message.partial ? `… ${message.text}` : message.text;
  const note = item.querySelector('.message-note') as HTMLElement;
  if (item.dataset.state === 'stopped') note.textContent = 'Stopped.';
  else if (message.failed) note.textContent = `Stopped: ${message.error?.message || message.error?.code || 'failed'}`;
  else if (message.partial) note.textContent = 'The beginning of this answer is no longer kept; it will appear when the answer is complete.';
  else note.textContent = '';
}
