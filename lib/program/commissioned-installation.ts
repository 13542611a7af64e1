// A type only: the registry reads these rows (registry/index.ts, `commissionedInstallations`) and
// alerts' pure core computes with them, which may import only lib/, so the shape lives here once.

/** A commissioned installation where the sun is looked for: where it stands and how big it is. */
export interface CommissionedInstallation {
  id: number;
  code: string;
  provinceId: number;
  provinceCode: string;
  latitude: number;
  longitude: number;
  dcKwp: number;
  /** Panel tilt, degrees; null when unknown (then taken as the latitude, the usual fixed tilt). */
  tiltDeg: number | null;
}
