// E-mails each closed month's report (PDF and XLSX attached) to REPORT_EMAIL_TO once: a month
// closed in the last 40 days whose report has not gone out yet (audit_log 'report.emailed'). Runs
// at start and every 10 minutes, so a month closed by billing's scheduler in another process, or
// a mail server that was down, is caught up.
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { FastifyBaseLogger } from 'fastify';
import { auditedIds, serviceActor, writeAudit } from '../../../lib/audit';
import { monthNameFa } from '../../../lib/program/solar-hijri';
import { monthsClosedWithin } from '../../../billing';
import { recordJobRun } from '../../../lib/job-runs';
import type { ReportConfig } from './config';
import { gatherReport, type ReportDeps } from './data';
import { reportPdf, reportXlsx } from './exports';

const EVERY_MS = 10 * 60_000;

export function startReportMailer(deps: ReportDeps, config: ReportConfig, log: FastifyBaseLogger) {
  if (config.emailTo.length === 0 || !config.smtpUrl) return { stop: () => undefined };
  const mail = nodemailer.createTransport({ url: config.smtpUrl } as SMTPTransport.Options);
  let running = false;
  const round = async () => {
    if (running) return;
    running = true;
    try {
      const closed = await monthsClosedWithin(deps.sql, 40);
      const emailed = await auditedIds(deps.sql, 'report.emailed', 'billing_month', closed);
      for (const month of closed.filter((m) => !emailed.has(m))) {
        const data = await gatherReport(deps, month);
        const [pdf, xlsx] = [await reportPdf(data, config.chromiumPath), reportXlsx(data)];
        await mail.sendMail({
          from: config.emailFrom,
          to: config.emailTo,
          subject: `گزارش ماهانه برنامه درآمد خورشیدی — ${monthNameFa(month)} (${month})`,
          text: `گزارش ${monthNameFa(month)} پیوست است: PDF برای خواندن و XLSX با همان جدول‌ها.`,
          attachments: [
            { filename: `solar-report-${month}.pdf`, content: pdf, contentType: 'application/pdf' },
            {
              filename: `solar-report-${month}.xlsx`,
              content: xlsx,
              contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
            },
          ],
        });
        await writeAudit(deps.sql, {
          actor: serviceActor('report-mailer'),
          action: 'report.emailed',
          entity: 'billing_month',
          entityId: month,
          after: { recipients: config.emailTo.length, pdfBytes: pdf.length },
        });
        log.info({ month, recipients: config.emailTo.length }, 'monthly report e-mailed');
      }
      await recordJobRun(deps.sql, 'report-mailer', EVERY_MS / 1000, true);
    } catch (error) {
      await recordJobRun(deps.sql, 'report-mailer', EVERY_MS / 1000, false);
      log.error({ err: error }, 'monthly report not e-mailed; retried in 10 minutes');
    } finally {
      running = false;
    }
  };
  void round();
  const timer = setInterval(round, EVERY_MS).unref();
  return { stop: () => clearInterval(timer) };
}
