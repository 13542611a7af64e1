// Solar position from the NOAA solar calculator equations (after Meeus, "Astronomical
// Algorithms"): stated accuracy about 0.01° for 1800-2100 before refraction; with the NOAA
// refraction approximation the zenith agrees with NREL SPA to a few hundredths of a degree.
const RAD = Math.PI / 180;

export interface SolarPosition {
  zenithDeg: number;
  azimuthDeg: number;
  declinationDeg: number;
  equationOfTimeMin: number;
}

export function solarPosition(latitudeDeg: number, longitudeDeg: number, tMs: number): SolarPosition {
  const jd = tMs / 86_400_000 + 2440587.5;
  const t = (jd - 2451545) / 36525; // Julian centuries since J2000
  const l0 = (280.46646 + t * (36000.76983 + t * 0.0003032)) % 360;
  const m = 357.52911 + t * (35999.05029 - 0.0001537 * t);
  const e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
  const c =
    Math.sin(m * RAD) * (1.914602 - t * (0.004817 + 0.000014 * t)) +
    Math.sin(2 * m * RAD) * (0.019993 - 0.000101 * t) +
    Math.sin(3 * m * RAD) * 0.000289;
  const trueLong = l0 + c;
  const omega = 125.04 - 1934.136 * t;
  const appLong = trueLong - 0.00569 - 0.00478 * Math.sin(omega * RAD);
  const meanObliq = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60;
  const obliq = meanObliq + 0.00256 * Math.cos(omega * RAD);
  const declination = Math.asin(Math.sin(obliq * RAD) * Math.sin(appLong * RAD)) / RAD;
  const y = Math.tan((obliq / 2) * RAD) ** 2;
  const eqTime =
    (4 / RAD) *
    (y * Math.sin(2 * l0 * RAD) -
      2 * e * Math.sin(m * RAD) +
      4 * e * y * Math.sin(m * RAD) * Math.cos(2 * l0 * RAD) -
      0.5 * y * y * Math.sin(4 * l0 * RAD) -
      1.25 * e * e * Math.sin(2 * m * RAD));
  const minutesUtc = (((tMs % 86_400_000) + 86_400_000) % 86_400_000) / 60_000;
  const trueSolarTime = (((minutesUtc + eqTime + 4 * longitudeDeg) % 1440) + 1440) % 1440;
  const hourAngle = trueSolarTime / 4 < 0 ? trueSolarTime / 4 + 180 : trueSolarTime / 4 - 180;
  const lat = latitudeDeg * RAD;
  const dec = declination * RAD;
  const cosZenith = Math.min(
    1,
    Math.max(-1, Math.sin(lat) * Math.sin(dec) + Math.cos(lat) * Math.cos(dec) * Math.cos(hourAngle * RAD)),
  );
  let zenith = Math.acos(cosZenith) / RAD;
  zenith -= refractionDeg(90 - zenith);
  const azDenominator = Math.cos(lat) * Math.sin(Math.acos(cosZenith));
  let azimuth: number;
  if (Math.abs(azDenominator) < 1e-9) azimuth = latitudeDeg > 0 ? 180 : 0;
  else {
    const cosAz = Math.min(1, Math.max(-1, (Math.sin(lat) * cosZenith - Math.sin(dec)) / azDenominator));
    azimuth = hourAngle > 0 ? (Math.acos(cosAz) / RAD + 180) % 360 : (540 - Math.acos(cosAz) / RAD) % 360;
  }
  return { zenithDeg: zenith, azimuthDeg: azimuth, declinationDeg: declination, equationOfTimeMin: eqTime };
}

// NOAA's atmospheric refraction approximation, degrees, by apparent elevation.
function refractionDeg(elevation: number): number {
  if (elevation > 85) return 0;
  const te = Math.tan(elevation * RAD);
  let arcsec: number;
  if (elevation > 5) arcsec = 58.1 / te - 0.07 / te ** 3 + 0.000086 / te ** 5;
  else if (elevation > -0.575)
    arcsec = 1735 + elevation * (-518.2 + elevation * (103.4 + elevation * (-12.79 + elevation * 0.711)));
  else arcsec = -20.772 / te;
  return arcsec / 3600;
}
