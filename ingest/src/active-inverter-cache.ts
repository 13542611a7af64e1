// serial -> installation/province/rating (the registry's) and latest replacement (billing's), loaded
// through their entries and reloaded when the registry changes (LISTEN registry_changed, fired by
// triggers and by a recorded replacement) and periodically as a safety net.
import pg from 'pg';
import { latestReplacements } from '../../billing/index';
import { admittedInverters } from '../../registry/index';
import type { Logger } from '../../lib/logger';
import type { RegisteredInverter } from './process-message';

export class ActiveInverterCache {
  private inverters = new Map<string, RegisteredInverter>();
  private listener: pg.Client | null = null;
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  private refreshTimer: NodeJS.Timeout | null = null;
  private closed = false;
  loadedAtMs = 0;

  constructor(
    private readonly databaseUrl: string,
    private readonly refreshMs: number,
    private readonly log: Logger,
    private readonly onLoaded: (count: number) => void,
  ) {}

  get size(): number {
    return this.inverters.size;
  }

  lookup = (serial: string): RegisteredInverter | undefined => this.inverters.get(serial);

  /** The reload under way, if any: a message from an inverter registered a moment ago can wait for it. */
  get pendingReload(): Promise<void> | null {
    return this.reloading;
  }

  async start(): Promise<void> {
    await this.reload();
    this.refreshTimer = setInterval(() => void this.reload().catch(() => undefined), this.refreshMs).unref();
    await this.listen();
  }

  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        const client = new pg.Client({ connectionString: this.databaseUrl });
        try {
          await client.connect();
          const rows = await admittedInverters(client);
          const replaced = await latestReplacements(client);
          const next = new Map<string, RegisteredInverter>();
          for (const row of rows)
            next.set(row.serial, {
              installation: row.installation,
              province: row.province,
              ratedAcW: row.rated_ac_w,
              replacedAtMs: replaced.get(row.serial)?.atMs ?? null,
            });
          this.inverters = next;
          this.loadedAtMs = Date.now();
          this.onLoaded(next.size);
          this.log.debug({ inverters: next.size }, 'registry loaded');
        } catch (error) {
          this.log.error({ error: (error as Error).message }, 'registry reload failed; keeping the previous registry');
          throw error;
        } finally {
          await client.end().catch(() => undefined);
        }
      } while (this.reloadAgain);
    })().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('notification', () => void this.reload().catch(() => undefined));
    client.on('error', (error) => {
      this.log.warn({ error: error.message }, 'registry listener lost; reconnecting');
      this.listener = null;
      setTimeout(
        () =>
          void this.listen()
            .then(() => this.reload())
            .catch(() => undefined),
        1000,
      ).unref();
    });
    try {
      await client.connect();
      await client.query('LISTEN registry_changed');
      this.listener = client;
    } catch (error) {
      this.log.warn({ error: (error as Error).message }, 'cannot LISTEN for registry changes yet; retrying');
      await client.end().catch(() => undefined);
      setTimeout(() => void this.listen().catch(() => undefined), 2000).unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    await this.listener?.end().catch(() => undefined);
  }
}
