// Where the monthly report is e-mailed and which Chromium prints it. The SMTP URL may carry a
// password: a problem with it is named without quoting it.
import { type Env, EnvReader } from '../../../lib/config';

export interface ReportConfig {
  emailTo: string[];
  emailFrom: string;
  smtpUrl: string | null;
  chromiumPath: string;
}

const emails = (text: string) => {
  const values = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const v of values) if (!/^[^\s@,]+@[^\s@,]+$/.test(v)) throw new RangeError(`'${v}' is not an e-mail address`);
  return values;
};

export function readReportConfig(env: Env): ReportConfig {
  const r = new EnvReader(env);
  const config = {
    emailTo: r.parsed('REPORT_EMAIL_TO', '', emails),
    emailFrom: r.parsed('REPORT_EMAIL_FROM', 'reports@solar.invalid', (t) => emails(t)[0]!),
    smtpUrl: r.parsed('REPORT_SMTP_URL', '', (t) => {
      if (t === '') return null;
      let url: URL;
      try {
        url = new URL(t);
      } catch {
        throw new RangeError('is not a URL');
      }
      if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new RangeError('must be an smtp: or smtps: URL');
      return t;
    }),
    chromiumPath: r.string('REPORT_CHROMIUM_PATH', '/usr/bin/chromium'),
  };
  if (config.emailTo.length > 0 && !config.smtpUrl) r.problems.push('REPORT_EMAIL_TO needs REPORT_SMTP_URL');
  return r.done(config);
}
