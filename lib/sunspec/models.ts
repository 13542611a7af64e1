// SunSpec information models the platform reads and simulates: the point layout (name, type,
// size in registers, scale-factor point) of models 1, 101-103, 111-113, 120 and 701, copied from
// the SunSpec Alliance's published definitions (github.com/sunspec/models, json/model_N.json at
// 7abdf8982d5364f8ae916deee18aac86c11be36d, Apache License 2.0). Offsets count from the model's ID register.

export const SUNSPEC_POINT_TYPES = [
  'acc32',
  'bitfield32',
  'enum16',
  'float32',
  'int16',
  'pad',
  'string',
  'sunssf',
  'uint16',
  'uint32',
  'uint64',
] as const;
export type SunSpecPointType = (typeof SUNSPEC_POINT_TYPES)[number];

export interface SunSpecPoint {
  name: string;
  type: SunSpecPointType;
  /** registers */
  size: number;
  /** the point holding this point's scale factor (a power of ten), if any */
  sf?: string;
  /** registers from the model's ID register */
  offset: number;
}
export interface SunSpecModel {
  id: number;
  name: string;
  /** the model's L: registers after ID and L */
  length: number;
  points: Record<string, SunSpecPoint>;
}

type Row = [name: string, type: SunSpecPointType, size: number, sf?: string];

function model(id: number, name: string, rows: Row[]): SunSpecModel {
  const points: Record<string, SunSpecPoint> = {};
  let offset = 2;
  for (const [pointName, type, size, sf] of rows) {
    points[pointName] = { name: pointName, type, size, offset, ...(sf ? { sf } : {}) };
    offset += size;
  }
  return { id, name, length: offset - 2, points };
}

const COMMON_ROWS: Row[] = [
  ['Mn', 'string', 16],
  ['Md', 'string', 16],
  ['Opt', 'string', 8],
  ['Vr', 'string', 8],
  ['SN', 'string', 16],
  ['DA', 'uint16', 1],
  ['Pad', 'pad', 1],
];
const INVERTER_INT_ROWS: Row[] = [
  ['A', 'uint16', 1, 'A_SF'],
  ['AphA', 'uint16', 1, 'A_SF'],
  ['AphB', 'uint16', 1, 'A_SF'],
  ['AphC', 'uint16', 1, 'A_SF'],
  ['A_SF', 'sunssf', 1],
  ['PPVphAB', 'uint16', 1, 'V_SF'],
  ['PPVphBC', 'uint16', 1, 'V_SF'],
  ['PPVphCA', 'uint16', 1, 'V_SF'],
  ['PhVphA', 'uint16', 1, 'V_SF'],
  ['PhVphB', 'uint16', 1, 'V_SF'],
  ['PhVphC', 'uint16', 1, 'V_SF'],
  ['V_SF', 'sunssf', 1],
  ['W', 'int16', 1, 'W_SF'],
  ['W_SF', 'sunssf', 1],
  ['Hz', 'uint16', 1, 'Hz_SF'],
  ['Hz_SF', 'sunssf', 1],
  ['VA', 'int16', 1, 'VA_SF'],
  ['VA_SF', 'sunssf', 1],
  ['VAr', 'int16', 1, 'VAr_SF'],
  ['VAr_SF', 'sunssf', 1],
  ['PF', 'int16', 1, 'PF_SF'],
  ['PF_SF', 'sunssf', 1],
  ['WH', 'acc32', 2, 'WH_SF'],
  ['WH_SF', 'sunssf', 1],
  ['DCA', 'uint16', 1, 'DCA_SF'],
  ['DCA_SF', 'sunssf', 1],
  ['DCV', 'uint16', 1, 'DCV_SF'],
  ['DCV_SF', 'sunssf', 1],
  ['DCW', 'int16', 1, 'DCW_SF'],
  ['DCW_SF', 'sunssf', 1],
  ['TmpCab', 'int16', 1, 'Tmp_SF'],
  ['TmpSnk', 'int16', 1, 'Tmp_SF'],
  ['TmpTrns', 'int16', 1, 'Tmp_SF'],
  ['TmpOt', 'int16', 1, 'Tmp_SF'],
  ['Tmp_SF', 'sunssf', 1],
  ['St', 'enum16', 1],
  ['StVnd', 'enum16', 1],
  ['Evt1', 'bitfield32', 2],
  ['Evt2', 'bitfield32', 2],
  ['EvtVnd1', 'bitfield32', 2],
  ['EvtVnd2', 'bitfield32', 2],
  ['EvtVnd3', 'bitfield32', 2],
  ['EvtVnd4', 'bitfield32', 2],
];
// Models 111-113 are 101-103 in float32: the same points in the same order, without scale factors.
const INVERTER_FLOAT_ROWS: Row[] = INVERTER_INT_ROWS.filter(([, type]) => type !== 'sunssf').map(
  ([name, type, size]) => (type === 'enum16' || type === 'bitfield32' ? [name, type, size] : [name, 'float32', 2]),
);
const NAMEPLATE_ROWS: Row[] = [
  ['DERTyp', 'enum16', 1],
  ['WRtg', 'uint16', 1, 'WRtg_SF'],
  ['WRtg_SF', 'sunssf', 1],
  ['VARtg', 'uint16', 1, 'VARtg_SF'],
  ['VARtg_SF', 'sunssf', 1],
  ['VArRtgQ1', 'int16', 1, 'VArRtg_SF'],
  ['VArRtgQ2', 'int16', 1, 'VArRtg_SF'],
  ['VArRtgQ3', 'int16', 1, 'VArRtg_SF'],
  ['VArRtgQ4', 'int16', 1, 'VArRtg_SF'],
  ['VArRtg_SF', 'sunssf', 1],
  ['ARtg', 'uint16', 1, 'ARtg_SF'],
  ['ARtg_SF', 'sunssf', 1],
  ['PFRtgQ1', 'int16', 1, 'PFRtg_SF'],
  ['PFRtgQ2', 'int16', 1, 'PFRtg_SF'],
  ['PFRtgQ3', 'int16', 1, 'PFRtg_SF'],
  ['PFRtgQ4', 'int16', 1, 'PFRtg_SF'],
  ['PFRtg_SF', 'sunssf', 1],
  ['WHRtg', 'uint16', 1, 'WHRtg_SF'],
  ['WHRtg_SF', 'sunssf', 1],
  ['AhrRtg', 'uint16', 1, 'AhrRtg_SF'],
  ['AhrRtg_SF', 'sunssf', 1],
  ['MaxChaRte', 'uint16', 1, 'MaxChaRte_SF'],
  ['MaxChaRte_SF', 'sunssf', 1],
  ['MaxDisChaRte', 'uint16', 1, 'MaxDisChaRte_SF'],
  ['MaxDisChaRte_SF', 'sunssf', 1],
  ['Pad', 'pad', 1],
];
// Model 701 repeats one group of points per phase (L1, L2, L3), each with its line-to-line voltage.
const DER_PHASE_ROWS: Row[] = (
  [
    ['1', 'L1L2'],
    ['2', 'L2L3'],
    ['3', 'L3L1'],
  ] as const
).flatMap(([n, lineToLine]): Row[] => [
  [`WL${n}`, 'int16', 1, 'W_SF'],
  [`VAL${n}`, 'int16', 1, 'VA_SF'],
  [`VarL${n}`, 'int16', 1, 'Var_SF'],
  [`PFL${n}`, 'int16', 1, 'PF_SF'],
  [`AL${n}`, 'int16', 1, 'A_SF'],
  [`V${lineToLine}`, 'uint16', 1, 'V_SF'],
  [`VL${n}`, 'uint16', 1, 'V_SF'],
  [`TotWhInjL${n}`, 'uint64', 4, 'TotWh_SF'],
  [`TotWhAbsL${n}`, 'uint64', 4, 'TotWh_SF'],
  [`TotVarhInjL${n}`, 'uint64', 4, 'TotVarh_SF'],
  [`TotVarhAbsL${n}`, 'uint64', 4, 'TotVarh_SF'],
]);
const DER_AC_MEASUREMENT_ROWS: Row[] = [
  ['ACType', 'enum16', 1],
  ['St', 'enum16', 1],
  ['InvSt', 'enum16', 1],
  ['ConnSt', 'enum16', 1],
  ['Alrm', 'bitfield32', 2],
  ['DERMode', 'bitfield32', 2],
  ['W', 'int16', 1, 'W_SF'],
  ['VA', 'int16', 1, 'VA_SF'],
  ['Var', 'int16', 1, 'Var_SF'],
  ['PF', 'int16', 1, 'PF_SF'],
  ['A', 'int16', 1, 'A_SF'],
  ['LLV', 'uint16', 1, 'V_SF'],
  ['LNV', 'uint16', 1, 'V_SF'],
  ['Hz', 'uint32', 2, 'Hz_SF'],
  ['TotWhInj', 'uint64', 4, 'TotWh_SF'],
  ['TotWhAbs', 'uint64', 4, 'TotWh_SF'],
  ['TotVarhInj', 'uint64', 4, 'TotVarh_SF'],
  ['TotVarhAbs', 'uint64', 4, 'TotVarh_SF'],
  ['TmpAmb', 'int16', 1, 'Tmp_SF'],
  ['TmpCab', 'int16', 1, 'Tmp_SF'],
  ['TmpSnk', 'int16', 1, 'Tmp_SF'],
  ['TmpTrns', 'int16', 1, 'Tmp_SF'],
  ['TmpSw', 'int16', 1, 'Tmp_SF'],
  ['TmpOt', 'int16', 1, 'Tmp_SF'],
  ...DER_PHASE_ROWS,
  ['ThrotPct', 'uint16', 1],
  ['ThrotSrc', 'bitfield32', 2],
  ['A_SF', 'sunssf', 1],
  ['V_SF', 'sunssf', 1],
  ['Hz_SF', 'sunssf', 1],
  ['W_SF', 'sunssf', 1],
  ['PF_SF', 'sunssf', 1],
  ['VA_SF', 'sunssf', 1],
  ['Var_SF', 'sunssf', 1],
  ['TotWh_SF', 'sunssf', 1],
  ['TotVarh_SF', 'sunssf', 1],
  ['Tmp_SF', 'sunssf', 1],
  ['MnAlrmInfo', 'string', 32],
];

// 101/102/103 (single, split, three phase) share one layout, and so do 111/112/113 (float).
export const SUNSPEC_MODELS: ReadonlyMap<number, SunSpecModel> = new Map(
  [
    model(1, 'common', COMMON_ROWS),
    model(101, 'inverter_single_phase', INVERTER_INT_ROWS),
    model(102, 'inverter_split_phase', INVERTER_INT_ROWS),
    model(103, 'inverter_three_phase', INVERTER_INT_ROWS),
    model(111, 'inverter_single_phase_float', INVERTER_FLOAT_ROWS),
    model(112, 'inverter_split_phase_float', INVERTER_FLOAT_ROWS),
    model(113, 'inverter_three_phase_float', INVERTER_FLOAT_ROWS),
    model(120, 'nameplate', NAMEPLATE_ROWS),
    model(701, 'DERMeasureAC', DER_AC_MEASUREMENT_ROWS),
  ].map((m) => [m.id, m]),
);

/** Model 101-113 `St` (operating state), by value; the contract's states carry the same names. */
export const INVERTER_STATE_SYMBOLS: Readonly<Record<number, string>> = {
  1: 'OFF',
  2: 'SLEEPING',
  3: 'STARTING',
  4: 'MPPT',
  5: 'THROTTLED',
  6: 'SHUTTING_DOWN',
  7: 'FAULT',
  8: 'STANDBY',
};
/** Model 701 `InvSt`, by value (RUNNING is the 10x models' MPPT). */
export const DER_INVERTER_STATE_SYMBOLS: Readonly<Record<number, string>> = {
  0: 'OFF',
  1: 'SLEEPING',
  2: 'STARTING',
  3: 'RUNNING',
  4: 'THROTTLED',
  5: 'SHUTTING_DOWN',
  6: 'FAULT',
  7: 'STANDBY',
};
/** Model 101-113 `Evt1` and model 701 `Alrm` bits (701 adds bit 16, MANUFACTURER_ALRM). */
export const EVENT_BITS: readonly string[] = [
  'GROUND_FAULT',
  'DC_OVER_VOLT',
  'AC_DISCONNECT',
  'DC_DISCONNECT',
  'GRID_DISCONNECT',
  'CABINET_OPEN',
  'MANUAL_SHUTDOWN',
  'OVER_TEMP',
  'OVER_FREQUENCY',
  'UNDER_FREQUENCY',
  'AC_OVER_VOLT',
  'AC_UNDER_VOLT',
  'BLOWN_STRING_FUSE',
  'UNDER_TEMP',
  'MEMORY_LOSS',
  'HW_TEST_FAILURE',
  'MANUFACTURER_ALRM',
];
/** `SunS`, the two registers that mark the start of a SunSpec map. */
export const SUNSPEC_MARKER = [0x5375, 0x6e53] as const;
/** Where devices put the marker, in the order to try (SunSpec's list). */
export const SUNSPEC_BASE_ADDRESSES = [40000, 50000, 0] as const;
/** The ID register value that ends the model chain. */
export const SUNSPEC_END_MODEL = 0xffff;
