/** One dispatched server-sent event. */
export interface SseEvent {
  /** The `event:` field; `message` when there was none. */
  event: string;
  /** The `data:` lines, joined with "\n". */
  data: string;
}

/**
 * The event-stream format of the HTML standard, read from text chunks as they arrive:
 * lines end with CRLF, LF or CR (a CRLF may be split across chunks), `:` starts a comment,
 * a blank line dispatches the event. `id` and `retry` are ignored: a lost stream is
 * resumed by the session, not by Last-Event-ID.
 */
export class SseParser {
  private buffer = '';
  /** The last chunk ended with CR: a LF starting the next one belongs to it. */
  private pendingCr = false;
  private event = '';
  private data: string[] = [];

  feed(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer + text.slice(start, i), events);
      this.buffer = '';
      if (c === 13) {
        if (i + 1 === text.length) this.pendingCr = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer += text.slice(start);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) events.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}
