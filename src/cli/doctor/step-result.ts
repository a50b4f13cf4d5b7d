/**
 * What one step of `switchboard doctor` found. A step that fails says the fix in one line;
 * the steps after it that need what it failed to reach are skipped, saying why.
 */
export const StepStatus = {
  Pass: 'pass',
  Warn: 'warn',
  Fail: 'fail',
  Skip: 'skip',
} as const;
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];

/** The steps, in the order a client meets them. */
export const StepName = {
  Url: 'url',
  Dns: 'dns',
  Tcp: 'tcp',
  Tls: 'tls',
  Upgrade: 'upgrade',
  Handshake: 'handshake',
  Origin: 'origin',
  Polling: 'polling',
  Sse: 'sse',
  Idle: 'idle',
} as const;
export type StepName = (typeof StepName)[keyof typeof StepName];

export interface StepResult {
  step: StepName;
  status: StepStatus;
  /** What the step saw, in one line. */
  found: string;
  /** What to change, in one line: on every fail and warn. */
  fix?: string;
}

export const pass = (step: StepName, found: string): StepResult => ({ step, status: StepStatus.Pass, found });
export const warn = (step: StepName, found: string, fix: string): StepResult => ({ step, status: StepStatus.Warn, found, fix });
export const fail = (step: StepName, found: string, fix: string): StepResult => ({ step, status: StepStatus.Fail, found, fix });
export const skip = (step: StepName, found: string): StepResult => ({ step, status: StepStatus.Skip, found });
