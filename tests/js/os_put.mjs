// Test-only interop helper: puts FILE into Object Store BUCKET as NAME with nats.js v2 and prints
// the resulting ObjectInfo as one JSON line.
// usage: node os_put.mjs URL BUCKET NAME FILE
import { connect } from "nats";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";

const [url, bucket, name, file] = process.argv.slice(2);
if (!file) {
  console.error("usage: node os_put.mjs URL BUCKET NAME FILE");
  process.exit(2);
}
const nc = await connect({ servers: url });
try {
  const os = await nc.jetstream().views.os(bucket);
  const info = await os.put({ name }, Readable.toWeb(createReadStream(file)));
  console.log(JSON.stringify({ name: info.name, size: info.size, chunks: info.chunks,
                               digest: info.digest, nuid: info.nuid }));
} catch (err) {
  console.error(`os_put: ${err.message}`);
  process.exitCode = 1;
} finally {
  await nc.close();
}
