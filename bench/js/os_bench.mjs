// nats.js v2 side of bench/os_bench.sh: puts FILE into BUCKET, gets it back into a sink that
// discards the bytes, and prints the same key=value lines as natsfn-bench-os.
// usage: node os_bench.mjs URL BUCKET NAME FILE
import { connect } from "nats";
import { createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";

const [url, bucket, name, file] = process.argv.slice(2);
const mib = statSync(file).size / (1024 * 1024);
const nc = await connect({ servers: url });
const os = await nc.jetstream().views.os(bucket);

let start = performance.now();
await os.put({ name }, Readable.toWeb(createReadStream(file, { highWaterMark: 128 * 1024 })));
const putS = (performance.now() - start) / 1000;

start = performance.now();
const r = await os.get(name);
const reader = r.data.getReader();
while (!(await reader.read()).done) {
  // discard
}
const err = await r.error;
if (err) throw err;
const getS = (performance.now() - start) / 1000;
await nc.close();

console.log(`client=nats.js\nsize_mib=${mib.toFixed(1)}\nput_s=${putS.toFixed(3)}`);
console.log(`put_mibps=${(mib / putS).toFixed(1)}\nget_s=${getS.toFixed(3)}`);
console.log(`get_mibps=${(mib / getS).toFixed(1)}`);
console.log(`maxrss_kib=${Math.round(process.resourceUsage().maxRSS)}\ndigest=${r.info.digest}`);
