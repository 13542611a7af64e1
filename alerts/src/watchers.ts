// Who watches Prometheus and Alertmanager: the always-firing Watchdog (ops/monitor/rules.yml) is
// sent by Alertmanager to the monitor every ALERTMANAGER_WATCHDOG_INTERVAL_SECONDS, and the monitor
// records each arrival as a run (job_runs: WATCHDOG_JOB). This job needs neither of them: when the
// Watchdog has not arrived for ALERTS_WATCHDOG_STALE_SECONDS it tells the receivers itself
// (WatchersSilent, by e-mail and webhook), again every four hours while it lasts, and once more when
// the heartbeat is back. Meanwhile Prometheus watches this job (AlertsJobStale).
import type pg from 'pg';
import { secondsSinceSuccess, WATCHDOG_JOB } from '../../lib/job-runs';
import type { Logger } from '../../lib/logger';
import type { Deliverer, PlatformNotice } from './notify';

/** As Alertmanager repeats a firing alert (its repeat_interval). */
const REMIND_MS = 4 * 3_600_000;
const ALERTNAME = 'WatchersSilent';

export class WatchersCheck {
  /** When the silence was last told; null while the heartbeat arrives. */
  private toldAt: number | null = null;
  private readonly startedAt = Date.now();

  constructor(
    private readonly pool: pg.Pool,
    private readonly deliverer: Pick<Deliverer, 'sendNotice'>,
    private readonly staleSeconds: number,
    private readonly logger: Logger,
  ) {}

  /** Reads the heartbeat's age and tells the receivers what changed; returns the age in seconds. */
  async check(): Promise<number> {
    // Never arrived (a new installation, or Alertmanager never reached the monitor): counted from this job's start.
    const age = (await secondsSinceSuccess(this.pool, WATCHDOG_JOB)) ?? (Date.now() - this.startedAt) / 1000;
    const silent = age > this.staleSeconds;
    if (silent && (this.toldAt === null || Date.now() - this.toldAt >= REMIND_MS)) {
      await this.tell({
        alertname: ALERTNAME,
        status: 'firing',
        summary: `no Watchdog from Alertmanager for ${Math.round(age)} s: the platform's own alerts are not delivered`,
        text: [
          'Prometheus or Alertmanager is down (or the monitor that records the Watchdog): nothing tells you',
          'that ingest, the databases, backups or billing fail until they are back. This notice comes from the',
          'alerts job, which depends on neither. Check: systemctl status solar-prometheus solar-alertmanager',
          'solar-monitor; curl -s 127.0.0.1:19090/-/healthy and 127.0.0.1:19390/-/healthy (run profile ports);',
          "their journals. ops/monitor/README.md, 'Who watches the watchers'.",
        ].join('\n'),
      });
      this.toldAt = Date.now();
    } else if (!silent && this.toldAt !== null) {
      await this.tell({
        alertname: ALERTNAME,
        status: 'resolved',
        summary: 'the Watchdog arrives again: the platform alerts are delivered',
        text: 'Prometheus and Alertmanager evaluate and deliver again. Look at what fired meanwhile: /api/v1/alerts of Prometheus.',
      });
      this.toldAt = null;
    }
    return age;
  }

  private async tell(notice: PlatformNotice): Promise<void> {
    this.logger.warn({ alertname: notice.alertname, status: notice.status }, notice.summary);
    await this.deliverer.sendNotice(notice);
  }
}
