// Climate presets by province (by the English names of lib/provinces.csv). Rough, public-knowledge
// figures: Caspian provinces are cloudy and wet; the central desert clear and dry.
export interface Climate {
  /** Mean probability that a day is cloudy (partly or overcast), before the seasonal swing. */
  cloudiness: number;
  rainDaysPerYear: number;
  meanTempC: number;
  seasonalAmplitudeC: number;
}

const CASPIAN: Climate = { cloudiness: 0.5, rainDaysPerYear: 120, meanTempC: 17, seasonalAmplitudeC: 10 };
const DESERT: Climate = { cloudiness: 0.07, rainDaysPerYear: 20, meanTempC: 19, seasonalAmplitudeC: 13 };
const GULF: Climate = { cloudiness: 0.12, rainDaysPerYear: 20, meanTempC: 26, seasonalAmplitudeC: 9 };
const NORTHWEST: Climate = { cloudiness: 0.24, rainDaysPerYear: 75, meanTempC: 11, seasonalAmplitudeC: 14 };
const PLATEAU: Climate = { cloudiness: 0.15, rainDaysPerYear: 50, meanTempC: 16, seasonalAmplitudeC: 13 };

export const PROVINCE_CLIMATE: Record<string, Climate> = {
  Gilan: CASPIAN,
  Mazandaran: CASPIAN,
  Golestan: CASPIAN,
  Yazd: DESERT,
  Kerman: DESERT,
  Isfahan: DESERT,
  Semnan: DESERT,
  'South Khorasan': DESERT,
  'Sistan and Baluchestan': DESERT,
  Qom: DESERT,
  Bushehr: GULF,
  Hormozgan: GULF,
  Khuzestan: GULF,
  'East Azerbaijan': NORTHWEST,
  'West Azerbaijan': NORTHWEST,
  Ardabil: NORTHWEST,
  Zanjan: NORTHWEST,
  Kurdistan: NORTHWEST,
  Kermanshah: NORTHWEST,
  Hamadan: NORTHWEST,
  Qazvin: NORTHWEST,
  Tehran: PLATEAU,
  Alborz: PLATEAU,
  Markazi: PLATEAU,
  'Razavi Khorasan': PLATEAU,
  'North Khorasan': PLATEAU,
  Lorestan: PLATEAU,
  Ilam: PLATEAU,
  'Chaharmahal and Bakhtiari': PLATEAU,
  'Kohgiluyeh and Boyer-Ahmad': PLATEAU,
  Fars: PLATEAU,
};

export const DEFAULT_CLIMATE = PLATEAU;
