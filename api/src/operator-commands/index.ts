// The API's commands of the operator's command line (ops/cli.ts runs them, with ops' own):
// npm run ops -- <command> (`--help` on each), one module per group: staff accounts, bulk import,
// broker accounts (devices, the simulated fleet's), the distribution company's settlements, progress.
// Listed in this order in the program's help.
import { type Program, runProgram } from '../../../lib/cli';
import { brokerAccountCommands } from './broker-accounts';
import { bulkImportCommands } from './bulk-import';
import { progressCommands } from './progress';
import { settlementsProgram } from './settlements';
import { staffAccountCommands } from './staff-accounts';

export const operatorProgram: Program = {
  invocation: 'npm run ops --',
  commands: {
    ...staffAccountCommands,
    ...bulkImportCommands,
    ...brokerAccountCommands,
    settlements: {
      summary: "the distribution company's settlements: import, reconcile, cash (its own --help)",
      help: 'Usage: npm run ops -- settlements <command> [options]',
      nested: true,
      run: ({ positionals }) => runProgram(settlementsProgram, positionals),
    },
    ...progressCommands,
  },
};
