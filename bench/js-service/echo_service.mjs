// The baseline for bench/runtime_bench.sh: a hand-written nats.js echo service, the thing a
// user would write instead of deploying a function. It answers every request on SUBJECT with the
// request's payload, then prints "ready" so the script knows the subscription is live.
//
// usage: node echo_service.mjs nats://127.0.0.1:4222 bench.js.echo
import { connect } from "nats";

const [server, subject] = process.argv.slice(2);
if (!server || !subject) {
  console.error("usage: node echo_service.mjs SERVER SUBJECT");
  process.exit(2);
}

const nc = await connect({ servers: server, name: "natsfn-bench-js-service" });
// A callback subscription answers without the async-iterator hop per message.
nc.subscribe(subject, {
  callback: (err, msg) => {
    if (err) {
      console.error(err.message);
      return;
    }
    msg.respond(msg.data);
  },
});
await nc.flush();
console.log("ready");

const stop = async () => {
  await nc.drain();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
