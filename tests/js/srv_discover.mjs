// Test-only interop helper: asks every natsfn sidecar for PING, INFO and STATS with nats.js v2's
// ADR-32 services client and prints what it understood as one JSON line.
// usage: node srv_discover.mjs URL
import { connect } from "nats";

const [url] = process.argv.slice(2);
if (!url) {
  console.error("usage: node srv_discover.mjs URL");
  process.exit(2);
}
const nc = await connect({ servers: url });
try {
  const client = nc.services.client({ maxWait: 1500 });
  const collect = async (it) => {
    const out = [];
    for await (const r of await it) out.push(r);
    return out;
  };
  const ping = await collect(client.ping("natsfn"));
  const info = await collect(client.info("natsfn"));
  const stats = await collect(client.stats("natsfn"));
  // One instance by id, to prove the $SRV.<verb>.natsfn.<id> subjects.
  const one = ping.length ? await collect(client.stats("natsfn", ping[0].id)) : [];
  console.log(JSON.stringify({ ping, info, stats, one }));
} finally {
  await nc.close();
}
