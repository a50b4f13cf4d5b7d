/**
 * What the page says about the network and the device: `offline`/`online`, and the
 * events that follow a laptop waking or a tab coming back (`visibilitychange` to visible,
 * `pageshow`, `focus`). Browsers only; in Node there is nothing to watch.
 */

/** The slice of EventTarget the watch needs (window, a worker's self, or a test's EventTarget). */
export interface NetworkEventTarget {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/**
 * Where network and visibility signals come from. The default is the browser's `globalThis`
 * and `navigator.onLine`; pass your own to test, or for a runtime with other signals.
 */
export interface NetworkEnvironment {
  /** Receives `online`, `offline`, `visibilitychange`, `pageshow` and `focus` events. */
  target: NetworkEventTarget;
  /** Like navigator.onLine: false means surely offline, true only "maybe online". */
  isOnline(): boolean;
  /** Whether the page is visible (default: always); `visibilitychange` to hidden is ignored. */
  isVisible?(): boolean;
}

export interface NetworkHandlers {
  /** The device lost its network. */
  offline(): void;
  /** The device got a network back. */
  online(): void;
  /** The page came back (woke, tab shown, window focused): timers may have been frozen. */
  wake(): void;
}

const WAKE_EVENTS = ['visibilitychange', 'pageshow', 'focus'] as const;

/** The browser's own signals, or undefined where there are none (Node, Deno without navigator.onLine). */
export function browserNetwork(): NetworkEnvironment | undefined {
  const g = globalThis as {
    addEventListener?: unknown;
    removeEventListener?: unknown;
    navigator?: { onLine?: unknown };
    document?: { visibilityState?: unknown };
  };
  if (typeof g.addEventListener !== 'function' || typeof g.removeEventListener !== 'function') return undefined;
  if (typeof g.navigator?.onLine !== 'boolean') return undefined;
  const navigator = g.navigator;
  return {
    target: globalThis as unknown as NetworkEventTarget,
    isOnline: () => navigator.onLine !== false,
    // visibilitychange is fired at the document and bubbles to the window, where we listen.
    isVisible: () => g.document?.visibilityState !== 'hidden',
  };
}

/** Listens to one environment until stop(). */
export class NetworkWatch {
  private readonly listeners: Array<[string, () => void]>;

  constructor(
    private readonly env: NetworkEnvironment,
    handlers: NetworkHandlers,
  ) {
    const wake = (): void => {
      if (this.visible) handlers.wake();
    };
    this.listeners = [['offline', () => handlers.offline()], ['online', () => handlers.online()], ...WAKE_EVENTS.map((type): [string, () => void] => [type, wake])];
    for (const [type, listener] of this.listeners) env.target.addEventListener(type, listener);
  }

  /** True when the environment says the network is surely gone. */
  get offline(): boolean {
    return !this.env.isOnline();
  }

  private get visible(): boolean {
    return this.env.isVisible?.() ?? true;
  }

  stop(): void {
    for (const [type, listener] of this.listeners.splice(0)) this.env.target.removeEventListener(type, listener);
  }
}
