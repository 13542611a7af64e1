// The broker's administration connection, opened on first use (device provisioning) and opened
// again on the next use after it is lost; a request that meets a lost connection answers 503.
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
    let open: BrokerAdmin | null = null;
    app.decorate('brokerAdmin', () => {
      if (admin === null || (open !== null && !open.usable)) {
        open = null;
        const opening: Promise<BrokerAdmin> = BrokerAdmin.connect(mqttAdmin).then(
          (connected) => (open = connected),
          (error: Error) => {
            if (admin === opening) admin = null; // the next call tries again
            throw error;
          },
        );
        admin = opening;
      }
      return admin;
    });
    app.addHook('onClose', async () => {
      if (admin) await (await admin.catch(() => null))?.close();
    });
  },
  { name: 'broker' },
);
