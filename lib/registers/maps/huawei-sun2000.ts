// Huawei SUN2000 string inverters (e.g. SUN2000-5KTL-L1, -KTL-M0/M1/M2), which speak Huawei's own
// Modbus register table rather than SunSpec, over Modbus TCP (the inverter's WLAN/FE port or the
// SDongle, port 502) or RS-485. Holding registers (function 03), big-endian; a register a model
// does not have reads 0xFFFF (SunSpec's "not implemented" for unsigned types).
//
// Source: Huawei, "SUN2000 Series Solar Inverter MODBUS Interface Definitions" (the register table
// of addresses 30000-32119 below: address, type U16/I16/U32/I32/STR, unit and gain), as transcribed
// in the open-source drivers wlcrs/huawei-solar-lib (src/huawei_solar/register_values.py, commit
// 0d3f72f34377c3e8c73422b1753ea192d275bea3: device status 32089, alarm bits 32008-32010) and
// olivergregorius/sun2000_modbus (sun2000_modbus/registers.py: addresses, types and gains). Gains
// become powers of ten into the contract's units: "kWh, gain 100" is 10 Wh per unit (sf 1).
import type { RegisterMap } from '../format';

export const HUAWEI_SUN2000: RegisterMap = {
  id: 'huawei-sun2000',
  title: 'Huawei SUN2000',
  source:
    'Huawei SUN2000 Series Solar Inverter MODBUS Interface Definitions, via wlcrs/huawei-solar-lib and ' +
    'olivergregorius/sun2000_modbus (lib/registers/maps/huawei-sun2000.ts names the commits)',
  notImplemented: 'sunspec',
  identity: {
    blocks: [
      { address: 30000, count: 25 },
      { address: 30073, count: 2 },
    ],
    manufacturer: 'Huawei',
    serial: 'SN',
    model: 'Model',
    ratedAcW: 'RatedPower',
  },
  reading: {
    blocks: [
      { address: 32000, count: 24 },
      { address: 32064, count: 44 },
    ],
    energyWhTotal: 'AccumulatedEnergyYield',
    acPowerW: 'ActivePower',
    state: {
      point: 'DeviceStatus',
      values: {
        0: 'STANDBY', // 0x0000 Standby: initializing
        1: 'STANDBY', // 0x0001 Standby: detecting insulation resistance
        2: 'STANDBY', // 0x0002 Standby: detecting irradiation
        3: 'STANDBY', // 0x0003 Standby: grid detecting
        256: 'STARTING', // 0x0100
        512: 'MPPT', // 0x0200 On-grid
        513: 'THROTTLED', // 0x0201 Grid connection: power limited
        514: 'THROTTLED', // 0x0202 Grid connection: self-derating
        768: 'FAULT', // 0x0300 Shutdown: fault
        769: 'OFF', // 0x0301 Shutdown: command
        770: 'OFF', // 0x0302 Shutdown: OVGR
        771: 'OFF', // 0x0303 Shutdown: communication disconnected
        772: 'OFF', // 0x0304 Shutdown: power limited
        773: 'OFF', // 0x0305 Shutdown: manual startup required
        774: 'OFF', // 0x0306 Shutdown: DC switches disconnected
        775: 'OFF', // 0x0307 Shutdown: rapid cutoff
        776: 'OFF', // 0x0308 Shutdown: input underpowered
        1025: 'MPPT', // 0x0401 Grid scheduling: cosphi-P curve (reactive power only)
        1026: 'MPPT', // 0x0402 Grid scheduling: Q-U curve
        1027: 'MPPT', // 0x0403 Grid scheduling: PF-U curve
        1028: 'THROTTLED', // 0x0404 Grid scheduling: dry contact
        1029: 'MPPT', // 0x0405 Grid scheduling: Q-P curve
        1280: 'STANDBY', // 0x0500 Spot-check ready
        1281: 'STANDBY', // 0x0501 Spot-checking
        1536: 'STANDBY', // 0x0600 Inspecting
        1792: 'STARTING', // 0x0700 AFCI self check
        2048: 'THROTTLED', // 0x0800 I-V scanning
        2304: 'STARTING', // 0x0900 DC input detection
        40960: 'SLEEPING', // 0xA000 Standby: no irradiation
      },
    },
    events: [
      {
        point: 'Alarm1',
        bits: {
          0: 'HIGH_STRING_INPUT_VOLTAGE', // 2001
          1: 'ARC_FAULT', // 2002 DC arc fault
          2: 'STRING_REVERSE_CONNECTION', // 2011
          3: 'STRING_CURRENT_BACKFEED', // 2012
          4: 'ABNORMAL_STRING_POWER', // 2013
          5: 'AFCI_SELF_CHECK_FAIL', // 2021
          6: 'PHASE_WIRE_SHORT_TO_PE', // 2031
          7: 'GRID_DISCONNECT', // 2032 grid loss
          8: 'AC_UNDER_VOLT', // 2033
          9: 'AC_OVER_VOLT', // 2034
          10: 'GRID_VOLTAGE_IMBALANCE', // 2035
          11: 'OVER_FREQUENCY', // 2036
          12: 'UNDER_FREQUENCY', // 2037
          13: 'UNSTABLE_GRID_FREQUENCY', // 2038
          14: 'OUTPUT_OVERCURRENT', // 2039
          15: 'OUTPUT_DC_COMPONENT_HIGH', // 2040
        },
      },
      {
        point: 'Alarm2',
        bits: {
          0: 'ABNORMAL_RESIDUAL_CURRENT', // 2051
          1: 'GROUND_FAULT', // 2061 abnormal grounding
          2: 'ISOLATION_FAULT', // 2062 low insulation resistance
          3: 'OVER_TEMP', // 2063
          4: 'DEVICE_FAULT', // 2064
        },
        unnamed: 'HUAWEI_ALARM2_BIT',
      },
      { point: 'Alarm3', bits: {}, unnamed: 'HUAWEI_ALARM3_BIT' },
    ],
    optional: {
      dc_voltage_v: 'PV1Voltage',
      dc_current_a: 'PV1Current',
      ac_voltage_v: 'PhaseAVoltage',
      ac_frequency_hz: 'GridFrequency',
      temperature_c: 'InternalTemperature',
    },
  },
  points: {
    Model: { address: 30000, type: 'string', size: 15, doc: 'Model, STR 15' },
    SN: { address: 30015, type: 'string', size: 10, doc: 'SN, STR 10' },
    RatedPower: { address: 30073, type: 'uint32', sf: 0, doc: 'Rated power (Pn), U32, kW, gain 1000' },
    Alarm1: { address: 32008, type: 'bitfield16', doc: 'Alarm 1, Bitfield16' },
    Alarm2: { address: 32009, type: 'bitfield16', doc: 'Alarm 2, Bitfield16' },
    Alarm3: { address: 32010, type: 'bitfield16', doc: 'Alarm 3, Bitfield16' },
    PV1Voltage: { address: 32016, type: 'int16', sf: -1, doc: 'PV1 voltage, I16, V, gain 10' },
    PV1Current: { address: 32017, type: 'int16', sf: -2, doc: 'PV1 current, I16, A, gain 100' },
    PhaseAVoltage: { address: 32069, type: 'uint16', sf: -1, doc: 'Phase A voltage, U16, V, gain 10' },
    ActivePower: { address: 32080, type: 'int32', sf: 0, doc: 'Active power, I32, kW, gain 1000' },
    GridFrequency: { address: 32085, type: 'uint16', sf: -2, doc: 'Grid frequency, U16, Hz, gain 100' },
    InternalTemperature: { address: 32087, type: 'int16', sf: -1, doc: 'Internal temperature, I16, °C, gain 10' },
    DeviceStatus: { address: 32089, type: 'uint16', doc: 'Device status, U16, enum' },
    AccumulatedEnergyYield: {
      address: 32106,
      type: 'uint32',
      sf: 1,
      doc: 'Accumulated energy yield, U32, kWh, gain 100',
    },
  },
};
