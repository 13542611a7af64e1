// The operator's command line: npm run ops -- <command> (`--help` on each). One program over the
// commands each component exports for operators: the API's (staff accounts, bulk import, broker
// device accounts, the simulated fleet's account, settlements, progress) and ops' own (backups and
// restore, the production install). docs/decisions/008-operator-cli-in-ops.md says why it lives here.
import { operatorProgram } from '../api';
import { main } from '../lib/cli';
import { backupCommands } from './backup/commands';
import { installCommands } from './install/commands';

await main({ ...operatorProgram, commands: { ...operatorProgram.commands, ...backupCommands, ...installCommands } });
