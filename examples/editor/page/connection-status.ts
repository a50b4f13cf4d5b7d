import type { SwitchboardClient } from '../../../src/client/index.js';
import type { DocumentProvider } from '../../../src/yjs/client/index.js';

/** What the indicator says, as `data-state` (for styles and tests) and as text. */
const LABELS = {
  connecting: 'connecting…',
  syncing: 'syncing…',
  connected: 'connected',
  offline: 'offline: edits are kept',
  disconnected: 'disconnected',
} as const;
type Shown = keyof typeof LABELS;

/** Show the connection in `box`: `connected` only once the document is synced with the server. */
export function showConnection(box: HTMLElement, text: HTMLElement, client: SwitchboardClient, provider: DocumentProvider): void {
  let offline = false;
  const render = (): void => {
    let shown: Shown;
    if (provider.synced) shown = 'connected';
    else if (client.state === 'connected') shown = 'syncing';
    else if (client.state === 'disconnected') shown = 'disconnected';
    else shown = offline ? 'offline' : 'connecting';
    box.dataset.state = shown;
    text.textContent = LABELS[shown];
  };
  client.on('state', (change) => {
    offline = change.reason === 'network_offline' || (offline && change.state !== 'connected');
    render();
  });
  provider.on('status', render);
  provider.on('synced', render);
  render();
}
