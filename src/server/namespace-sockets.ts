/**
 * A session's sockets by namespace name — the part of Map a session uses. Most
 * connections use one namespace: its socket is held as is, and a Map is made only when
 * a second namespace connects (an empty Map alone costs more than this object).
 */
export class NamespaceSockets<S> {
  private oneName: string | undefined;
  private one: S | undefined;
  private many: Map<string, S> | undefined;

  get size(): number {
    return this.many ? this.many.size : this.oneName === undefined ? 0 : 1;
  }

  get(name: string): S | undefined {
    if (this.many) return this.many.get(name);
    return name === this.oneName ? this.one : undefined;
  }

  has(name: string): boolean {
    return this.many ? this.many.has(name) : name === this.oneName;
  }

  set(name: string, socket: S): void {
    if (this.many) this.many.set(name, socket);
    else if (this.oneName === undefined || this.oneName === name) {
      this.oneName = name;
      this.one = socket;
    } else {
      this.many = new Map([[this.oneName, this.one as S], [name, socket]]);
      this.oneName = undefined;
      this.one = undefined;
    }
  }

  delete(name: string): boolean {
    if (this.many) return this.many.delete(name);
    if (name !== this.oneName) return false;
    this.oneName = undefined;
    this.one = undefined;
    return true;
  }

  values(): Iterable<S> {
    if (this.many) return this.many.values();
    return this.oneName === undefined ? [] : [this.one as S];
  }

  clear(): void {
    this.many = undefined;
    this.oneName = undefined;
    this.one = undefined;
  }
}
