// The field technician's and operator's simulator CLI:  npm run sim -- <command> [options]
// One module per command (commands/): the fleet on the wire, Modbus devices, expected yield,
// commissioning an inverter end to end; listed in this order in the help.
import { main } from '../../lib/cli';
import commission from './commands/commission';
import fleet from './commands/fleet';
import modbus from './commands/modbus';
import expectedYield from './commands/yield';

await main({
  invocation: 'npm run sim --',
  commands: { fleet, modbus, yield: expectedYield, commission },
});
