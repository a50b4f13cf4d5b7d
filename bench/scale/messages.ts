/** IPC messages between run.ts and the server and client processes of the scale run. */

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface ServerStatus {
  type: 'status';
  /** Switchboard's count of open connections. */
  connections: number;
  sessions: number;
  /** TCP connections accepted by the HTTP server and not closed yet. */
  tcpOpen: number;
  tcpAccepted: number;
  /** Open file descriptors, or the error code reading /proc/self/fd gave. */
  fds: number | string;
  /** Connections that completed the handshake, ever; and of those, how many have closed. */
  welcomed: number;
  lost: number;
  /** 'error' events of the HTTP server, by syscall and code (accept EMFILE at the fd limit). */
  acceptErrors: Record<string, number>;
}

export type ToServer =
  | { type: 'status' }
  | { type: 'memory' }
  | { type: 'mark' }
  | { type: 'window' }
  | { type: 'sources' }
  | { type: 'exit' };

export type FromServer =
  | {
      type: 'ready';
      port: number;
      pid: number;
      heartbeat: { interval: number; timeout: number; tickMs: number };
      memory: MemorySample;
      fds: number | string;
    }
  | ServerStatus
  | { type: 'memory'; memory: MemorySample; status: ServerStatus }
  | { type: 'marked' }
  | {
      type: 'window';
      wallMs: number;
      cpuUserMs: number;
      cpuSystemMs: number;
      eventLoopUtilization: number;
      /** write(2)/writev(2) and read(2) calls of the server in the window (/proc/self/io). */
      writeSyscalls: number;
      readSyscalls: number;
      sweeps: { count: number; totalMs: number; maxMs: number };
      status: ServerStatus;
    }
  | { type: 'sources'; bySource: Record<string, number> };

export interface OpenResult {
  /** Connections that got their welcome in this batch. */
  opened: number;
  /** Attempts that failed, by error code or close code. */
  failed: Record<string, number>;
  ms: number;
}

export type ToClient =
  | { type: 'open'; count: number; concurrency: number }
  | { type: 'reset' }
  | { type: 'report' }
  | { type: 'exit' };

export type FromClient =
  | { type: 'ready' }
  | ({ type: 'opened' } & OpenResult)
  | { type: 'reset' }
  | {
      type: 'report';
      /** Connections that completed the handshake, in total. */
      welcomed: number;
      /** Of those, still open. */
      open: number;
      /** Closed after their welcome, by close code. */
      closes: Record<string, number>;
      /** Application `ping` frames per open connection since the reset: histogram count → connections. */
      appPings: Record<string, number>;
      /** WebSocket ping control frames per open connection since the reset: histogram. */
      wsPings: Record<string, number>;
      /** Frames other than ping received since the reset (there should be none). */
      otherFrames: number;
    };
