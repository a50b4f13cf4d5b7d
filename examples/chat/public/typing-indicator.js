// "Ada is typing…": each name shows until ~3 s pass without a new typing notice from it,
// or until its message (or its leave notice) arrives.

/** How long one typing notice keeps a name shown. The sender refreshes every ~2 s. */
export const TYPING_SHOW_MS = 3000;

export class TypingIndicator {
  /** @param {HTMLElement} line */
  constructor(line) {
    this.line = line;
    /** @type {Map<string, ReturnType<typeof setTimeout>>} */
    this.names = new Map();
  }

  /** @param {string} name */
  show(name) {
    clearTimeout(this.names.get(name));
    this.names.set(name, setTimeout(() => this.clear(name), TYPING_SHOW_MS));
    this.render();
  }

  /** @param {string} name */
  clear(name) {
    if (!this.names.has(name)) return;
    clearTimeout(this.names.get(name));
    this.names.delete(name);
    this.render();
  }

  clearAll() {
    for (const timer of this.names.values()) clearTimeout(timer);
    this.names.clear();
    this.render();
  }

  render() {
    const names = [...this.names.keys()];
    let text = '';
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = `${names.length} people are typing…`;
    this.line.textContent = text;
  }
}
