import type { Command } from '../command.js';

// CONTRACT STUB (issue 18): replaced by the real command.
export const serveCommand: Command = {
  name: 'serve',
  summary: '(not built yet)',
  help: 'switchboard serve: not built yet\n',
  async run(_args, io) {
    io.stderr.write('switchboard serve: not built yet\n');
    return 2;
  },
};
