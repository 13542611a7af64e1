// One Modbus link (a TCP host:port, or a serial line for RTU) shared by the inverters behind it,
// each with its unit id. Requests on a link go one at a time (Modbus has one outstanding request
// per RTU bus, and many TCP devices allow only one too); a link that fails is reopened on the
// next request.
import ModbusRTU from 'modbus-serial';
import type { RegisterReader } from '../sunspec/discover';

export type LinkConfig =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'rtu'; path: string; baudRate: number; parity?: 'none' | 'even' | 'odd' };

export const linkName = (link: LinkConfig) =>
  link.kind === 'tcp' ? `tcp://${link.host}:${link.port}` : `rtu:${link.path}@${link.baudRate}`;

export class ModbusLink {
  private client: ModbusRTU | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly config: LinkConfig,
    private readonly timeoutMs = 2000,
  ) {}

  /** A register reader for one unit behind this link. */
  unit(unitId: number): RegisterReader {
    return { readHoldingRegisters: (address, count) => this.read(unitId, address, count) };
  }

  private read(unitId: number, address: number, count: number): Promise<number[]> {
    const run = async () => {
      const client = await this.open();
      client.setID(unitId);
      try {
        return (await client.readHoldingRegisters(address, count)).data;
      } catch (error) {
        const e = error as Error & { modbusCode?: number; errno?: string };
        // An exception reply leaves the link usable; a timeout or a broken socket does not.
        if (e.modbusCode === undefined) this.drop();
        throw new Error(`${linkName(this.config)} unit ${unitId}, registers ${address}+${count}: ${e.message}`);
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async open(): Promise<ModbusRTU> {
    if (this.client?.isOpen) return this.client;
    this.drop();
    const client = new ModbusRTU();
    client.setTimeout(this.timeoutMs);
    const { config } = this;
    try {
      if (config.kind === 'tcp') await client.connectTCP(config.host, { port: config.port });
      else await client.connectRTUBuffered(config.path, { baudRate: config.baudRate, parity: config.parity ?? 'none' });
    } catch (error) {
      throw new Error(`${linkName(config)}: cannot connect: ${(error as Error).message}`);
    }
    this.client = client;
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = null;
    if (client?.isOpen) client.close(() => undefined);
  }

  async close(): Promise<void> {
    await this.queue;
    const client = this.client;
    this.client = null;
    if (client?.isOpen) await new Promise<void>((resolve) => client.close(() => resolve()));
  }
}
