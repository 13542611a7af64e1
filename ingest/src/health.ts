// What a worker says about itself: /healthz (each problem in words, 503 while any is present, so
// nobody reads "ok" while work is held) and /metrics. Both answer from the start: a worker started
// while PostgreSQL is away (after a crash, a host booting) waits for its registry, taking nothing
// from the broker, and says so instead of exiting; once it runs, WorkerHealth answers.
import Fastify, { type FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { buildInfo } from '../../lib/version';
import type { AckGate } from './ack-gate';
import type { IngestConfig } from './config';
import type { DiskSpace } from './disk-space';
import type { Drainer } from './drainer';
import type { HistoryJudge } from './history-judge';
import type { Journal } from './journal';
import type { IngestMetrics } from './metrics';
import type { ReadingDelay } from './reading-delay';
import type { Recorder } from './recorder';
import type { SubscriptionKeeper } from './subscription';

export interface HealthAnswer {
  code: number;
  body: Record<string, unknown>;
}
interface Reporter {
  answer(): HealthAnswer;
  observe(nowMs: number): void;
}

export class HealthServer {
  readonly http: FastifyInstance = Fastify({ logger: false });
  /** What the worker waits for before it runs. */
  startingProblem = 'starting';
  private reporter: Reporter;

  constructor(workerId: string, metrics: IngestMetrics) {
    this.reporter = {
      answer: () => ({
        code: 503,
        body: { status: 'starting', problems: [this.startingProblem], worker: workerId, ...buildInfo() },
      }),
      observe: () => {},
    };
    this.http.get('/healthz', async (_request, reply) => {
      const { code, body } = this.reporter.answer();
      return reply.code(code).send(body);
    });
    this.http.get('/metrics', async (_request, reply) => {
      this.reporter.observe(Date.now());
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }

  async listen(port: number): Promise<void> {
    await this.http.listen({ host: '127.0.0.1', port });
  }

  /** The running worker's answers replace the start-up ones. */
  serve(reporter: Reporter): void {
    this.reporter = reporter;
  }
}

export interface WorkerParts {
  config: IngestConfig;
  client: MqttClient;
  subscription: SubscriptionKeeper;
  recorder: Recorder;
  gate: AckGate;
  history: HistoryJudge;
  drainer: Drainer;
  journal: Journal;
  delay: ReadingDelay;
  disk: DiskSpace;
  registry: { size: number };
  metrics: IngestMetrics;
}

export class WorkerHealth implements Reporter {
  constructor(private readonly w: WorkerParts) {}

  /** Why acknowledgements wait, or null. */
  holdReason(): string | null {
    const { recorder, gate, history, config } = this.w;
    return (
      recorder.diskProblem ??
      (gate.holding
        ? `journal backlog at its limit (INGEST_JOURNAL_MAX_BACKLOG_BYTES = ${config.journalMaxBacklogBytes} bytes): InfluxDB is behind or away`
        : history.readable
          ? null
          : "waiting to read the device's history from InfluxDB")
    );
  }

  problems(nowMs: number): string[] {
    const { client, subscription, recorder, gate, history, drainer, journal } = this.w;
    const found: string[] = [];
    if (!client.connected) found.push('not connected to the broker');
    else if (!subscription.subscribed)
      found.push(
        recorder.diskProblem !== null || gate.holding
          ? "subscription not confirmed yet: the broker's answer waits behind the held message"
          : 'connected but the subscription is not granted yet',
      );
    if (subscription.starved)
      found.push(
        `connected but receiving nothing for ${Math.round((nowMs - subscription.lastMessageAtMs) / 1000)} s while the broker receives publishes`,
      );
    if (!history.readable)
      found.push("cannot read InfluxDB to judge late readings against the device's history: holding the message");
    const reason = this.holdReason();
    if (reason) found.push(`acknowledgements held: ${reason}`);
    if (!drainer.influxHealthy)
      found.push(
        `${drainer.writerRefused ? 'InfluxDB refuses the writer (INFLUX_WRITER_USERNAME/PASSWORD, WRITE grant)' : 'InfluxDB writes failing'}: ` +
          `${journal.backlogBytes} bytes wait in the journal, the oldest ${Math.round(journal.lagMs(nowMs) / 1000)} s old`,
      );
    return found;
  }

  observe(nowMs: number): void {
    const { metrics, journal, delay, subscription, client, recorder, gate, disk } = this.w;
    metrics.backlogBytes.set(journal.backlogBytes);
    metrics.lagSeconds.set(journal.lagMs(nowMs) / 1000);
    metrics.storedLagSeconds.set(delay.seconds(nowMs) + journal.lagMs(nowMs) / 1000);
    metrics.subscribed.set(subscription.subscribed && client.connected ? 1 : 0);
    metrics.starved.set(subscription.starved ? 1 : 0);
    metrics.silentSeconds.set((nowMs - subscription.lastMessageAtMs) / 1000);
    metrics.resubscribes.set(subscription.resubscribes);
    metrics.acksHeld.set(this.holdReason() === null ? 0 : 1);
    metrics.acksHeldFor.labels('disk').set(recorder.diskProblem === null ? 0 : 1);
    metrics.acksHeldFor.labels('backlog').set(gate.holding ? 1 : 0);
    if (disk.freeBytes !== null) metrics.diskFreeBytes.set(disk.freeBytes);
  }

  answer(): HealthAnswer {
    const { config, client, subscription, drainer, journal, delay, disk, history, registry } = this.w;
    const nowMs = Date.now();
    const found = this.problems(nowMs);
    const body = {
      status: found.length === 0 ? 'ok' : 'degraded',
      problems: found,
      worker: config.workerId,
      ...buildInfo(),
      mqttConnected: client.connected,
      subscribed: subscription.subscribed && client.connected,
      receiving: !subscription.starved,
      silentSeconds: (nowMs - subscription.lastMessageAtMs) / 1000,
      influxWritesHealthy: drainer.influxHealthy,
      influxWriterRefused: drainer.writerRefused,
      journalBacklogBytes: journal.backlogBytes,
      lagSeconds: journal.lagMs(nowMs) / 1000,
      readingDelaySeconds: delay.seconds(nowMs),
      storedLagSeconds: delay.seconds(nowMs) + journal.lagMs(nowMs) / 1000,
      acksHeld: this.holdReason() !== null,
      holdReason: this.holdReason(),
      diskFreeBytes: disk.freeBytes,
      diskReserveBytes: config.diskReserveBytes,
      historyReadable: history.readable,
      registryDevices: registry.size,
    };
    return { code: found.length === 0 ? 200 : 503, body };
  }
}
