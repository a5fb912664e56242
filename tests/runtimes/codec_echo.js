'use strict';
// Test driver: decodes every frame on fd 3 with the Node runtime's msgpack codec and sends the
// value straight back re-encoded, so tests/test_runtime_bootstraps.cpp can cross-check the codec
// against msgpack-c in both directions.

const net = require('net');
const path = require('path');
const msgpack = require(path.join(__dirname, '../../sidecar/runtimes/node/msgpack.js'));

const socket = new net.Socket({fd: 3, readable: true, writable: true});
const reader = new msgpack.FrameReader();
socket.on('data', (chunk) => {
  reader.push(chunk);
  let body;
  while ((body = reader.next()) !== null) socket.write(msgpack.encodeFrame(msgpack.decode(body)));
});
socket.on('end', () => process.exit(0));
