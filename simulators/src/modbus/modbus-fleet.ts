// Simulated inverters as Modbus devices (SunSpec, or a vendor's register map): the fleet's physics, faults and ground truth, with
// each inverter's registers served by one Modbus TCP server (a unit id per inverter, as behind a
// site's Modbus TCP datalogger) and, optionally, one inverter on a serial line (Modbus RTU).
import { ServerSerial, ServerTCP } from 'modbus-serial';
import { buildFleetModel, type FleetModel } from '../fleet';
import type { PlannedInverter } from '../scenario';
import { BUILTIN_REGISTER_MAPS } from '../../../lib/registers/maps/index';
import { MapDevice } from './map-device';
import { ModbusException, SUNSPEC_PROFILES, SunSpecDevice, type SunSpecProfile } from './sunspec-device';

/** What a simulated device speaks: a SunSpec profile, or a built-in vendor register map's id. */
export const MODBUS_PROFILES: readonly string[] = [...SUNSPEC_PROFILES, ...BUILTIN_REGISTER_MAPS.keys()];
export type ModbusProfile = SunSpecProfile | string;

export interface ModbusFleetOptions {
  seed: number;
  intervalSeconds: number;
  /** Cycled over the inverters: the first gets profiles[0] at bases[0] (SunSpec), and so on. */
  profiles: ModbusProfile[];
  bases: number[];
  tcp: { host: string; port: number };
  /** Serve the fleet's last inverter over Modbus RTU on this serial device instead of TCP. */
  rtu?: { path: string; unitId: number; baudRate: number };
  fromMs: number;
}

export interface ModbusInverter {
  planned: PlannedInverter;
  device: SunSpecDevice | MapDevice;
  /** `tcp` unit id, or the RTU unit id. */
  unitId: number;
  transport: 'tcp' | 'rtu';
  /** Answers Modbus (not during an `offline` or `power_outage` fault). */
  answering: boolean;
}

type Server = { close(cb: (err?: unknown) => void): void; on(event: string, cb: (...args: unknown[]) => void): void };

function simulatedDevice(
  profile: ModbusProfile,
  base: number,
  identity: { serial: string; ratedAcW: number },
): SunSpecDevice | MapDevice {
  if ((SUNSPEC_PROFILES as readonly string[]).includes(profile))
    return new SunSpecDevice(base, profile as SunSpecProfile, identity);
  const map = BUILTIN_REGISTER_MAPS.get(profile);
  if (!map) throw new Error(`Modbus profile '${profile}' is neither ${SUNSPEC_PROFILES.join(', ')} nor a register map`);
  return new MapDevice(map, identity);
}

export class ModbusFleet {
  readonly model: FleetModel;
  readonly inverters: ModbusInverter[];
  private lastMs = Number.NEGATIVE_INFINITY;
  private servers: Server[] = [];

  constructor(
    planned: PlannedInverter[],
    private readonly options: ModbusFleetOptions,
  ) {
    this.model = buildFleetModel(
      planned,
      options.seed,
      options.fromMs,
      Number.POSITIVE_INFINITY,
      options.intervalSeconds,
    );
    this.inverters = this.model.inverters.map(({ planned: p }, i) => {
      const onRtu = options.rtu !== undefined && i === planned.length - 1;
      return {
        planned: p,
        device: simulatedDevice(
          options.profiles[i % options.profiles.length]!,
          options.bases[i % options.bases.length]!,
          {
            serial: p.spec.serial,
            ratedAcW: p.spec.ratedAcW,
          },
        ),
        unitId: onRtu ? options.rtu!.unitId : i + 1,
        transport: onRtu ? 'rtu' : 'tcp',
        answering: true,
      };
    });
  }

  /** Steps every inverter to tMs (physics, faults, ground truth) and shows the result in its registers. */
  advanceTo(tMs: number): void {
    if (tMs <= this.lastMs) return;
    this.lastMs = tMs;
    this.model.inverters.forEach(({ sim, planned }, i) => {
      const emission = sim.step(tMs);
      this.model.truth.record(planned.spec.serial, tMs, emission.producedWh, sim.energyWhTotal);
      const inverter = this.inverters[i]!;
      inverter.answering = !emission.offline && !emission.unpowered;
      inverter.device.update(emission.reading);
    });
  }

  /** What a Modbus read of `unitId` over `transport` answers (an exception is the server's reply). */
  read(transport: 'tcp' | 'rtu', unitId: number, address: number, count: number): number[] {
    const inverter = this.inverters.find((i) => i.transport === transport && i.unitId === unitId);
    // 0x0B: gateway target device failed to respond (what a datalogger answers for a silent unit).
    if (!inverter) throw new ModbusException(0x0b, `no inverter at unit ${unitId}`);
    if (!inverter.answering) throw new ModbusException(0x0b, `unit ${unitId} does not answer (fault)`);
    return inverter.device.read(address, count);
  }

  async start(): Promise<void> {
    const vector = (transport: 'tcp' | 'rtu') => ({
      getHoldingRegister: (address: number, unitId: number) => this.read(transport, unitId, address, 1)[0],
      getMultipleHoldingRegisters: (address: number, count: number, unitId: number) =>
        this.read(transport, unitId, address, count),
    });
    const tcp = new ServerTCP(vector('tcp'), { ...this.options.tcp, unitID: 255 }) as unknown as Server;
    this.servers.push(tcp);
    await new Promise<void>((resolve, reject) => {
      tcp.on('initialized', () => resolve());
      tcp.on('serverError', (error) => reject(error as Error));
    });
    const { rtu } = this.options;
    if (rtu) {
      const serial = new ServerSerial(vector('rtu'), {
        path: rtu.path,
        baudRate: rtu.baudRate,
        unitID: rtu.unitId,
      }) as unknown as Server;
      this.servers.push(serial);
      await new Promise<void>((resolve, reject) => {
        serial.on('initialized', () => resolve());
        serial.on('error', (error) => reject(error as Error));
      });
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers = [];
  }
}
