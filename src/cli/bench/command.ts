import type { Command } from '../command.js';

// CONTRACT STUB (issue 18): replaced by the real command.
export const benchCommand: Command = {
  name: 'bench',
  summary: '(not built yet)',
  help: 'switchboard bench: not built yet\n',
  async run(_args, io) {
    io.stderr.write('switchboard bench: not built yet\n');
    return 2;
  },
};
