// The /bare page: bare-sse-client.js showing what reaches the signed-in user, as plain lines.
import { connectBare } from '/bare-sse-client.js';

const status = document.getElementById('status');
const list = document.getElementById('events');
const me = await fetch('/api/me');
if (!me.ok) {
  status.textContent = 'not signed in: sign in on the seller page first';
} else {
  const { user } = await me.json();
  const key = `bare-position:${user}`;
  const saved = localStorage.getItem(key);
  const events = [];
  const statuses = [];
  connectBare({
    room: `#user:${user}`,
    since: saved ? JSON.parse(saved) : undefined,
    onEvent(event, data, position) {
      events.push({ event, data, position });
      if (position) localStorage.setItem(key, JSON.stringify(position));
      const line = document.createElement('li');
      line.dataset.testid = 'bare-event';
      line.textContent = `${position ? position.offset : '-'} ${event} ${JSON.stringify(data)}`;
      list.append(line);
    },
    onStatus(text) {
      statuses.push(text);
      status.textContent = text;
    },
  });
  document.getElementById('me-name').textContent = user;
  // For tests and the curious.
  window.bare = { events, statuses };
}
