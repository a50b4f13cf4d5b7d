import type { Command } from '../command.js';

// CONTRACT STUB (issue 18): replaced by the real command.
export const doctorCommand: Command = {
  name: 'doctor',
  summary: '(not built yet)',
  help: 'switchboard doctor: not built yet\n',
  async run(_args, io) {
    io.stderr.write('switchboard doctor: not built yet\n');
    return 2;
  },
};
