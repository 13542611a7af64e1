// The naive reference for the ingest benchmark: subscribe, parse, batch, write, and let mqtt.js
// acknowledge each message on arrival. Fast, but a crash loses every acknowledged reading still in
// memory. Not part of the product; run by ingest-bench.ts only.
import mqtt from 'mqtt';
import { readInfluxConfig, readMqttConfig } from '../../lib/config';
import { InfluxClient } from '../../lib/influx/client';
import { encodeLine, msToNs } from '../src/line-protocol';

const influx = new InfluxClient(readInfluxConfig(process.env, 'WRITER'));
const mqttConfig = readMqttConfig(process.env, 'INGEST');
const devices = new Map<string, { installation: string; province: string }>(
  (JSON.parse(process.env.BENCH_DEVICES ?? '[]') as [string, string][]).map(([serial, installation]) => [
    serial,
    { installation, province: 'yazd' },
  ]),
);
const BATCH = 5000;
let batch: string[] = [];
let inFlight = 0;
const flush = () => {
  if (batch.length === 0 || inFlight >= 2) return;
  const body = batch.join('\n');
  batch = [];
  inFlight += 1;
  void influx
    .write(body)
    .catch((e) => console.error(e.message))
    .finally(() => {
      inFlight -= 1;
      flush();
    });
};
setInterval(flush, 250);

const client = mqtt.connect(mqttConfig.url, {
  username: mqttConfig.username,
  password: mqttConfig.password,
  clientId: `naive-${process.pid}`,
  protocolVersion: 5,
});
client.on('message', (topic, payload) => {
  const serial = topic.split('/')[2]!;
  const device = devices.get(serial);
  if (!device) return;
  const r = JSON.parse(payload.toString()) as {
    ts: number;
    energy_wh_total: number;
    ac_power_w: number;
    state: string;
  };
  batch.push(
    encodeLine(
      'telemetry',
      { ...device, serial },
      { energy_wh_total: r.energy_wh_total, ac_power_w: r.ac_power_w, state: r.state },
      msToNs(r.ts),
    ),
  );
  if (batch.length >= BATCH) flush();
});
client.on('connect', () => {
  client.subscribe(`$share/${process.env.INGEST_SHARE_GROUP}/solar/v1/+/telemetry`, { qos: 1 }, () =>
    console.log('ready'),
  );
});
