import type { SwitchboardClient } from '../../../src/client/index.js';

const LABELS = {
  connecting: 'connecting…',
  connected: 'connected',
  offline: 'offline: the answer goes on when you are back',
  disconnected: 'disconnected',
} as const;

/** Show the connection's state in `box` (`data-state` for styles and tests) and `text`. */
export function showConnection(box: HTMLElement, text: HTMLElement, client: SwitchboardClient): void {
  let offline = false;
  const render = (): void => {
    const shown: keyof typeof LABELS = client.state === 'connected' ? 'connected' : client.state === 'disconnected' ? 'disconnected' : offline ? 'offline' : 'connecting';
    box.dataset.state = shown;
    text.textContent = LABELS[shown];
  };
  client.on('state', (change) => {
    offline = change.reason === 'network_offline' || (offline && change.state !== 'connected');
    render();
  });
  render();
}
