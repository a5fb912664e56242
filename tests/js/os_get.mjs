// Test-only interop helper: gets NAME from Object Store BUCKET with nats.js v2 into FILE (nats.js
// verifies the digest while reading) and prints its ObjectInfo as one JSON line.
// usage: node os_get.mjs URL BUCKET NAME FILE
import { connect } from "nats";
import { createWriteStream } from "node:fs";
import { once } from "node:events";

const [url, bucket, name, file] = process.argv.slice(2);
if (!file) {
  console.error("usage: node os_get.mjs URL BUCKET NAME FILE");
  process.exit(2);
}
const nc = await connect({ servers: url });
try {
  const os = await nc.jetstream().views.os(bucket);
  const r = await os.get(name);
  if (r === null) throw new Error(`object '${name}' not found`);
  const out = createWriteStream(file);
  const reader = r.data.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!out.write(value)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  const err = await r.error;
  if (err) throw err;
  const info = r.info;
  console.log(JSON.stringify({ name: info.name, size: info.size, chunks: info.chunks,
                               digest: info.digest, nuid: info.nuid }));
} catch (err) {
  console.error(`os_get: ${err.message}`);
  process.exitCode = 1;
} finally {
  await nc.close();
}
