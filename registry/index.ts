// The registry's public entry: what other folders may import. Everything under src/ is the
// registry's own; list a name here before another folder uses it.
export { conflictOn, invalidField, RegistryError, type RegistryErrorCode } from './src/errors';
export {
  type HeldShare,
  overlaps,
  peakWeightW,
  type ShareBreach,
  shareBreach,
  type SharePeriod,
} from './src/share-rules';
export {
  countShares,
  createShare,
  listShares,
  type NewShare,
  type ShareFilter,
  shareById,
  type ShareOnStatement,
  sharesOf,
  sharesOnStatementOf,
  updateShare,
} from './src/share-service';
export {
  activeInverterCount,
  checkProgram,
  isInstallationRegistered,
  type Program,
  type ProgramBeneficiary,
  type ProgramCounts,
  type ProgramInstallation,
  type ProgramShare,
  registerProgram,
} from './src/register-program';
export {
  countInstallations,
  createInstallation,
  type InstallationFields,
  type InstallationFilter,
  type InstallationStatus,
  installationById,
  listInstallations,
  updateInstallation,
} from './src/installations';
export {
  activeInverterSerials,
  countInverters,
  createInverter,
  DEVICE_REGISTRY_LOCK,
  decommissionInverter,
  type InverterFilter,
  type InverterStatus,
  inverterBySerial,
  invertersBySerials,
  listInverters,
  type NewInverter,
} from './src/inverters';
export {
  type BeneficiaryFilter,
  type BeneficiaryInput,
  type BeneficiaryStatus,
  beneficiaryById,
  beneficiaryByNationalCode,
  beneficiaryExists,
  beneficiaryWithProvince,
  countBeneficiaries,
  createBeneficiary,
  listBeneficiaries,
  setPinHash,
  setSmsOptOut,
  type TargetGroup,
  updateBeneficiary,
} from './src/beneficiaries';
export { mobileOf, nationalCodeOf, shebaOf } from './src/beneficiary-input';
export {
  addTariff,
  contractById,
  countContracts,
  countLoans,
  createContract,
  createLoan,
  listContracts,
  listLoans,
  type NewContract,
  type NewLoan,
  type TariffInput,
} from './src/contracts';
export {
  IMPORT_KINDS,
  IMPORT_LIMITS,
  type ImportKind,
  type ImportOptions,
  type ImportReport,
  runImport,
} from './src/import';
export { installationCodes, installationIdsInProvince, provinceCodes } from './src/codes';
export { type ProgressFigures, progressFigures } from './src/progress-figures';
export {
  activeInvertersOfCommissioned,
  beneficiariesHoldingAfter,
  commissionedInstallations,
  commissionedTariffs,
  type ContractTariffRow,
  contractTariffsInForce,
  installationsWithInverters,
  type LoanRow,
  type MeteredInstallationRow,
  meteredInstallations,
  pricedRegistryFingerprint,
  type ShareRow,
  sharesInForce,
  type TariffRow,
} from './src/program-reads';
export {
  type AdmittedInverterRow,
  admittedInverters,
  installationsByCodeOrMeter,
  type RegisteredInverter,
  registeredInverter,
} from './src/lookups';
export { type Payee, payeesOf, type SmsRecipient, smsRecipientsOf } from './src/contacts';
export { upsertProvinces } from './src/provinces';
export {
  addContractsWhereNone,
  type ContractOffer,
  registerSingleInverterInstallations,
  type SingleInverterInstallation,
} from './src/single-inverter-installations';
