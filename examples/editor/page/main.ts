/**
 * The editor page: pick a name, then edit `doc:<#fragment>` (default `doc:welcome`) with
 * everyone who has the page open. CodeMirror 6 is bound to a Y.Text by y-codemirror.next;
 * the DocumentProvider carries the Y.Doc and the awareness (names, colours, cursors) over
 * the Switchboard client. Edits made offline stay in the Y.Doc and merge at the next sync.
 */
import { basicSetup, EditorView } from 'codemirror';
import { yCollab } from 'y-codemirror.next';
import * as Y from 'yjs';
import { connect } from '../../../src/client/index.js';
import { DocumentProvider } from '../../../src/yjs/client/index.js';
import { showConnection } from './connection-status.js';
import { showPeople } from './people-list.js';
import { checkName, userInfo } from './user-colours.js';

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const documentName = `doc:${decodeURIComponent(location.hash.slice(1)) || 'welcome'}`;
element('document-name').textContent = documentName.slice('doc:'.length);

const form = element<HTMLFormElement>('name-form');
const nameInput = element<HTMLInputElement>('name-input');
nameInput.value = sessionStorage.getItem('editor-name') ?? '';

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const checked = checkName(nameInput.value);
  if ('error' in checked) {
    element('name-error').textContent = checked.error;
    nameInput.setAttribute('aria-invalid', 'true');
    return;
  }
  sessionStorage.setItem('editor-name', checked.name);
  open(checked.name);
});

function open(name: string): void {
  element('welcome').hidden = true;
  element('workspace').hidden = false;
  element('me').hidden = false;
  element('me-name').textContent = name;

  const doc = new Y.Doc();
  const text = doc.getText('codemirror');
  const client = connect(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  const provider = new DocumentProvider(client, documentName, doc);
  const me = userInfo(name, doc.clientID);
  provider.awareness.setLocalStateField('user', me);
  element('me-name').style.color = me.color;
  provider.on('error', (err) => console.warn(`document: ${err.message}`));

  const view = new EditorView({
    parent: element('editor'),
    extensions: [basicSetup, EditorView.lineWrapping, yCollab(text, provider.awareness, { undoManager: new Y.UndoManager(text) })],
  });
  view.focus();
  showPeople(element('people'), provider.awareness);
  showConnection(element('connection-status'), element('connection-text'), client, provider);

  // For tests and the curious: the text as CodeMirror shows it and as the Y.Doc holds it.
  Object.assign(window, {
    editorSession: {
      text: () => view.state.doc.toString(),
      documentText: () => text.toString(),
      clientID: doc.clientID,
      synced: () => provider.synced,
    },
  });
  addEventListener('pagehide', () => provider.destroy());
}
