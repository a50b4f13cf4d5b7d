/** Failures a fuzz run keeps at most before it says the rest were left out. */
const MAX_FAILURES = 40;

/**
 * What a fuzz run found wrong, bounded, with the process's uncaught exceptions and unhandled
 * rejections counted among them while the run watches (`unwatch()` when it ends).
 */
export function collectFailures(): { failures: string[]; fail(message: string): void; unwatch(): void } {
  const failures: string[] = [];
  const fail = (message: string): void => {
    if (failures.length < MAX_FAILURES) failures.push(message);
    else if (failures.length === MAX_FAILURES) failures.push('… more failures left out');
  };
  const onUncaught = (err: unknown): void => fail(`uncaught exception: ${(err as Error)?.stack ?? String(err)}`);
  const onUnhandled = (err: unknown): void => fail(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  return {
    failures,
    fail,
    unwatch() {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUnhandled);
    },
  };
}
