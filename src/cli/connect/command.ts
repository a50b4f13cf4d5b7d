import type { Command } from '../command.js';

// CONTRACT STUB (issue 18): replaced by the real command.
export const connectCommand: Command = {
  name: 'connect',
  summary: '(not built yet)',
  help: 'switchboard connect: not built yet\n',
  async run(_args, io) {
    io.stderr.write('switchboard connect: not built yet\n');
    return 2;
  },
};
