/** A bound on every wait of the doctor: a server or proxy that never answers must not hang it. */
export class DeadlineError extends Error {
  readonly code = 'timeout';
}

/** `promise`, or a DeadlineError with `what` after `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
