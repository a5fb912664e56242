'use strict';
// natsfn Node.js worker bootstrap. The sidecar spawns `node bootstrap.js` with the package root as
// cwd and fd 3 as a socketpair speaking the frame protocol (DESIGN "Worker frame protocol"). This
// file loads an unmodified AWS Lambda handler, says ready, then runs one invocation at a time.
//
// Environment: LAMBDA_TASK_ROOT (package root), NATSFN_HANDLER (`index.myHandler`,
// `src/app.handler`), AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION,
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, plus the function's own variables.

const fs = require('fs');
const net = require('net');
const path = require('path');
const util = require('util');
const {pathToFileURL} = require('url');
const msgpack = require('./msgpack');

const FRAME_FD = 3;
const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
const handlerString = process.env.NATSFN_HANDLER || '';
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME || '';

// ---------------------------------------------------------------------------------------------
// Logging. Lambda prefixes every console line with time, request id and level, and turns
// newlines inside one message into carriage returns so one call stays one captured log line.

let currentRequestId;  // undefined outside an invocation, printed as "undefined" like Lambda

function patchConsole() {
  const levels = [
    ['log', 'INFO', process.stdout],
    ['info', 'INFO', process.stdout],
    ['debug', 'DEBUG', process.stdout],
    ['warn', 'WARN', process.stderr],
    ['error', 'ERROR', process.stderr],
    ['trace', 'TRACE', process.stderr],
  ];
  for (const [method, level, stream] of levels) {
    console[method] = (...args) => {
      let message = util.format(...args);
      if (method === 'trace') message += '\n' + new Error().stack.split('\n').slice(2).join('\n');
      const line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${message}`;
      stream.write(line.replace(/\r?\n/g, '\r') + '\n');
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The frame socket.

let socket;
const reader = new msgpack.FrameReader();
const pending = [];  // invoke frames that arrived while another invocation was running
let inFlight = null;  // the running invocation's completion state

function send(frame) {
  socket.write(msgpack.encodeFrame(frame));
}

function die(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function openSocket() {
  try {
    fs.fstatSync(FRAME_FD);
  } catch (err) {
    die(`natsfn bootstrap: fd ${FRAME_FD} is not open (${err.message}); start me from the sidecar`, 2);
  }
  socket = new net.Socket({fd: FRAME_FD, readable: true, writable: true});
  socket.on('data', (chunk) => {
    reader.push(chunk);
    let body;
    try {
      while ((body = reader.next()) !== null) onFrame(msgpack.decode(body));
    } catch (err) {
      die(`natsfn bootstrap: bad frame from sidecar: ${err.stack || err}`, 3);
    }
  });
  // The sidecar closing our socket means this worker is finished, in or out of an invocation.
  socket.on('end', () => process.exit(inFlight ? 1 : 0));
  socket.on('error', (err) => die(`natsfn bootstrap: frame socket error: ${err.message}`, 3));
}

function onFrame(frame) {
  if (frame === null || typeof frame !== 'object' || frame.t !== 'invoke') {
    die(`natsfn bootstrap: unexpected frame ${util.inspect(frame)}`, 3);
  }
  if (inFlight) {
    pending.push(frame);
    return;
  }
  startInvocation(frame);
}

// ---------------------------------------------------------------------------------------------
// Loading the handler.

class InitError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

// Lambda's rule: the module path runs up to the last '/' plus the file name up to its first dot;
// the rest is the export (possibly nested, `obj.method`). We first try the file name up to its
// LAST dot, so `my.module.handler` finds my.module.js; for ordinary `index.handler` both agree.
function handlerCandidates(spec) {
  const slash = spec.lastIndexOf('/');
  const dir = spec.slice(0, slash + 1);
  const base = spec.slice(slash + 1);
  const candidates = [];
  const lastDot = base.lastIndexOf('.');
  const firstDot = base.indexOf('.');
  if (lastDot > 0 && lastDot < base.length - 1) {
    candidates.push({module: dir + base.slice(0, lastDot), exportPath: base.slice(lastDot + 1)});
  }
  if (firstDot > 0 && firstDot !== lastDot) {
    candidates.push({module: dir + base.slice(0, firstDot), exportPath: base.slice(firstDot + 1)});
  }
  return candidates;
}

function findModuleFile(modulePath) {
  const base = path.resolve(taskRoot, modulePath);
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const file = base + ext;
    if (fs.existsSync(file) && fs.statSync(file).isFile()) return file;
  }
  return null;
}

async function loadModule(file) {
  if (file.endsWith('.mjs')) return import(pathToFileURL(file).href);
  try {
    return require(file);
  } catch (err) {
    // A .js file in a package with "type": "module" is ESM, which require() refuses in Node 20.
    if (err && err.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(file).href);
    throw err;
  }
}

function classifyLoadError(err) {
  if (err instanceof SyntaxError) {
    return new InitError('Runtime.UserCodeSyntaxError', `${err.name}: ${err.message}`);
  }
  if (err && (err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_MODULE_NOT_FOUND')) {
    return new InitError('Runtime.ImportModuleError', `Error: ${err.message}`);
  }
  if (err instanceof Error) return new InitError(err.name || 'Error', err.message);
  return new InitError('Error', String(err));
}

async function loadHandler() {
  const candidates = handlerCandidates(handlerString);
  if (candidates.length === 0) {
    throw new InitError('Runtime.MalformedHandlerName',
                        `Bad handler ${JSON.stringify(handlerString)}: expected <file>.<export>`);
  }
  let found = null;
  for (const candidate of candidates) {
    const file = findModuleFile(candidate.module);
    if (file) {
      found = {...candidate, file};
      break;
    }
  }
  if (!found) {
    throw new InitError('Runtime.ImportModuleError',
                        `Error: Cannot find module '${candidates[0].module}' in ${taskRoot}`);
  }
  let mod;
  try {
    mod = await loadModule(found.file);
  } catch (err) {
    throw classifyLoadError(err);
  }
  let fn = mod;
  for (const part of found.exportPath.split('.')) fn = fn == null ? undefined : fn[part];
  // An ES module imported for its CommonJS default export keeps the handler under .default.
  if (typeof fn !== 'function' && mod && mod.default && found.exportPath in Object(mod.default)) {
    fn = mod.default[found.exportPath];
  }
  if (typeof fn !== 'function') {
    throw new InitError('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  return fn;
}

// ---------------------------------------------------------------------------------------------
// Invocations.

let handler;

// Bytes a JSON text can start with after its leading whitespace: { [ " - 0-9 t(rue) f(alse) n(ull).
const JSON_START = new Uint8Array(256);
for (const c of '{["-0123456789tfn') JSON_START[c.charCodeAt(0)] = 1;
const JSON_SPACE = new Uint8Array(256);
for (const c of ' \t\n\r') JSON_SPACE[c.charCodeAt(0)] = 1;

// A failed JSON.parse builds a SyntaxError with a captured stack: a quarter of a warm worker's
// CPU for plain-text events. One look at the first significant byte rules most of them out.
function mayBeJson(bytes) {
  let i = 0;
  while (i < bytes.length && JSON_SPACE[bytes[i]]) ++i;
  return i < bytes.length && JSON_START[bytes[i]] === 1;
}

function decodeEvent(payload) {
  if (!payload || payload.length === 0) return {};
  if (typeof payload === 'string') payload = Buffer.from(payload, 'utf8');
  // Invalid UTF-8 becomes U+FFFD rather than an error, so binary events still arrive as strings.
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8');
  if (!mayBeJson(payload)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function encodeResult(result) {
  if (result === undefined || result === null) return Buffer.alloc(0);
  if (typeof result === 'string') return result;  // the codec writes it as UTF-8 bytes
  if (result instanceof Uint8Array) return result;
  if (result instanceof ArrayBuffer) return Buffer.from(result);
  const json = JSON.stringify(result);
  return json === undefined ? Buffer.alloc(0) : json;
}

function errorBody(err) {
  if (err instanceof Error) {
    const stack = typeof err.stack === 'string' ? err.stack.split('\n') : [];
    return {type: err.name || 'Error', message: String(err.message ?? ''), stack};
  }
  let message;
  if (typeof err === 'object' && err !== null) {
    try {
      message = JSON.stringify(err);
    } catch {
      message = String(err);
    }
  } else {
    message = String(err);
  }
  return {type: 'Error', message, stack: []};
}

function makeContext(frame, state) {
  const ctx = frame.ctx || {};
  const deadline = Number(frame.deadline_ms || 0);
  const name = ctx.function || functionName;
  const context = {
    awsRequestId: String(ctx.request_id || frame.id),
    functionName: name,
    functionVersion: String(ctx.version || process.env.AWS_LAMBDA_FUNCTION_VERSION || '$LATEST'),
    memoryLimitInMB: String(ctx.memory_mb || process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || ''),
    invokedFunctionArn: `arn:natsfn:function:${name}`,
    logGroupName: `/natsfn/${name}`,
    logStreamName: `${process.pid}`,
    subject: String(ctx.subject || ''),
    headers: frame.headers || {},
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    succeed: (result) => state.complete(null, result),
    fail: (err) => state.complete(err == null ? new Error('handled') : err),
    done: (err, result) => state.complete(err, result),
  };
  return context;
}

function startInvocation(frame) {
  const id = String(frame.id);
  const state = {
    done: false,
    complete(err, result) {
      if (this.done) return;  // the first completion wins, as in Lambda
      this.done = true;
      finishInvocation(id, err, result);
    },
  };
  inFlight = state;
  currentRequestId = frame.ctx && frame.ctx.request_id ? String(frame.ctx.request_id) : id;
  // While a handler runs, the frame socket must not keep the event loop alive: if the loop
  // drains with no completion, 'beforeExit' fires and we answer with an empty result, which is
  // what Lambda does for a handler that returns without calling back.
  socket.unref();
  const context = makeContext(frame, state);
  const callback = (err, result) => state.complete(err, result);
  let returned;
  try {
    returned = handler(decodeEvent(frame.payload), context, callback);
  } catch (err) {
    state.complete(err);
    return;
  }
  if (returned && typeof returned.then === 'function') {
    returned.then((result) => state.complete(null, result),
                  (err) => state.complete(err === undefined ? new Error('rejected') : err));
  }
}

function finishInvocation(id, err, result) {
  let frame;
  if (err !== null && err !== undefined) {
    frame = {t: 'result', id, ok: false, error: errorBody(err)};
  } else {
    try {
      frame = {t: 'result', id, ok: true, payload: encodeResult(result), headers: {}};
    } catch (marshalErr) {
      frame = {t: 'result', id, ok: false, error: {
        type: 'Runtime.MarshalError',
        message: `Unable to stringify response body: ${marshalErr.message}`,
        stack: String(marshalErr.stack || '').split('\n'),
      }};
    }
  }
  // Payload strings go out as bin, not str: the protocol says payload is bytes.
  if (frame.ok && typeof frame.payload === 'string') frame.payload = Buffer.from(frame.payload, 'utf8');
  inFlight = null;
  currentRequestId = undefined;
  socket.ref();
  send(frame);
  if (pending.length > 0) setImmediate(() => startInvocation(pending.shift()));
}

// ---------------------------------------------------------------------------------------------
// Process-level failures. An exception nobody catches, or a rejection nobody handles, leaves the
// function in an unknown state: report it on stderr and die so the sidecar replaces this worker.

function installCrashHandlers() {
  process.on('uncaughtException', (err) => {
    die(`${new Date().toISOString()}\t${currentRequestId}\tERROR\tUncaught Exception\t` +
        `${util.inspect(err).replace(/\n/g, '\r')}`, 129);
  });
  process.on('unhandledRejection', (reason) => {
    die(`${new Date().toISOString()}\t${currentRequestId}\tERROR\tUnhandled Promise Rejection\t` +
        `${util.inspect(reason).replace(/\n/g, '\r')}`, 128);
  });
  process.on('beforeExit', () => {
    if (inFlight) inFlight.complete(null, undefined);
  });
  // A handler calling process.exit(0) mid-invocation still crashed the invocation: never let that
  // look like a clean exit.
  process.on('exit', (code) => {
    if (inFlight && !inFlight.done) {
      process.stderr.write(`natsfn bootstrap: process exited with code ${code} during invocation\n`);
      if (!code) process.exitCode = 1;
    }
  });
}

async function main() {
  patchConsole();
  openSocket();
  installCrashHandlers();
  try {
    handler = await loadHandler();
  } catch (err) {
    const e = err instanceof InitError ? err : classifyLoadError(err);
    process.stderr.write(`${e.type}: ${e.message}\n`);
    socket.write(msgpack.encodeFrame({t: 'init_error', type: e.type, message: e.message}),
                 () => process.exit(1));
    return;
  }
  send({t: 'ready'});
}

main();
