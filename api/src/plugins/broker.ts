// The broker's administration connection, opened on first use (device provisioning).
import fp from 'fastify-plugin';
import type { MqttConfig } from '../../../lib/config';
import { BrokerAdmin } from '../../../lib/mqtt/broker-admin';

declare module 'fastify' {
  interface FastifyInstance {
    brokerAdmin: () => Promise<BrokerAdmin>;
  }
}

export default fp<{ mqttAdmin: MqttConfig }>(
  async (app, { mqttAdmin }) => {
    let admin: Promise<BrokerAdmin> | null = null;
    app.decorate('brokerAdmin', () => {
      admin ??= BrokerAdmin.connect(mqttAdmin).catch((error: Error) => {
        admin = null;
        throw error;
      });
      return admin;
    });
    app.addHook('onClose', async () => {
      if (admin) await (await admin.catch(() => null))?.close();
    });
  },
  { name: 'broker' },
);
