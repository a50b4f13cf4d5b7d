/**
 * The start of an example's `server.ts`: the port from PORT (default 3000), and what to say
 * when starting fails. Shared so that `npm start` and `npm run start:editor` answer a bad
 * PORT and a port in use alike.
 */

/** PORT as a port number (default 3000); a bad one is said and the process exits 1. */
export function portFromEnv(): number {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a port number, got "${process.env.PORT}"`);
    process.exit(1);
  }
  return port;
}

/** Say why the server could not start (a port in use: how to pick another with `command`) and exit 1. */
export function failedToStart(err: unknown, port: number, command: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') console.error(`Port ${port} is in use. Try another one: PORT=${port + 1} ${command}`);
  else console.error(err);
  process.exit(1);
}
