// Irradiance: Haurwitz clear-sky GHI, Erbs decomposition into beam and diffuse, and the isotropic
// (Liu-Jordan) transposition onto a tilted plane with ground reflection. W/m². Shared by the
// simulator's physics and the alerts' clear-sky expectation.
const RAD = Math.PI / 180;

/** Haurwitz (1945) clear-sky global horizontal irradiance. */
export function clearSkyGhi(zenithDeg: number): number {
  const cz = Math.cos(zenithDeg * RAD);
  return cz <= 0.01 ? 0 : 1098 * cz * Math.exp(-0.057 / cz);
}

/** Extraterrestrial horizontal irradiance, for the clearness index. */
export function extraterrestrialHorizontal(zenithDeg: number, dayOfYear: number): number {
  const cz = Math.cos(zenithDeg * RAD);
  return cz <= 0 ? 0 : 1367 * (1 + 0.033 * Math.cos((2 * Math.PI * dayOfYear) / 365)) * cz;
}

/** Erbs et al. (1982): diffuse fraction of GHI from the clearness index kt. */
export function erbsDiffuseFraction(kt: number): number {
  if (kt <= 0.22) return 1 - 0.09 * kt;
  if (kt <= 0.8) return 0.9511 - 0.1604 * kt + 4.388 * kt ** 2 - 16.638 * kt ** 3 + 12.336 * kt ** 4;
  return 0.165;
}

export interface PlaneOfArrayInput {
  ghi: number;
  zenithDeg: number;
  sunAzimuthDeg: number;
  dayOfYear: number;
  tiltDeg: number;
  surfaceAzimuthDeg: number;
  albedo?: number;
}

export function planeOfArray({
  ghi,
  zenithDeg,
  sunAzimuthDeg,
  dayOfYear,
  tiltDeg,
  surfaceAzimuthDeg,
  albedo = 0.2,
}: PlaneOfArrayInput): number {
  if (ghi <= 0) return 0;
  const cz = Math.cos(zenithDeg * RAD);
  const extra = extraterrestrialHorizontal(zenithDeg, dayOfYear);
  const kt = extra > 0 ? Math.min(1, ghi / extra) : 0;
  const dhi = ghi * erbsDiffuseFraction(kt);
  const beamHorizontal = ghi - dhi;
  const tilt = tiltDeg * RAD;
  const cosIncidence =
    cz * Math.cos(tilt) +
    Math.sin(zenithDeg * RAD) * Math.sin(tilt) * Math.cos((sunAzimuthDeg - surfaceAzimuthDeg) * RAD);
  // Beam on the plane: DNI × cos(incidence), with DNI from the horizontal beam (guarded near the horizon).
  const beam = cz > 0.05 ? Math.max(0, (beamHorizontal / cz) * cosIncidence) : 0;
  const sky = (dhi * (1 + Math.cos(tilt))) / 2;
  const ground = (ghi * albedo * (1 - Math.cos(tilt))) / 2;
  return beam + sky + ground;
}
