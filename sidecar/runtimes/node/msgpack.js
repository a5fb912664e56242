'use strict';
// A small msgpack codec for the worker frame protocol (DESIGN "Worker frame protocol"). Workers
// must not need npm packages at run time, so this covers exactly the subset the protocol uses:
// nil, bool, integers (with 64-bit values as BigInt when they do not fit a JS number), float64,
// str, bin, array and map. Unsupported types are reported as errors, never guessed.

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

// Encoding happens in two passes, size then write, so a frame is one allocation and a large
// payload is copied exactly once, straight into the outgoing buffer.
function sizeOf(value) {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || Object.is(value, -0)) return 9;
    if (!Number.isSafeInteger(value)) return 9;
    return intSize(value);
  }
  if (typeof value === 'bigint') return 9;
  if (typeof value === 'string') {
    const n = Buffer.byteLength(value, 'utf8');
    return strHeaderSize(n) + n;
  }
  if (value instanceof Uint8Array) return binHeaderSize(value.length) + value.length;
  if (value instanceof ArrayBuffer) return binHeaderSize(value.byteLength) + value.byteLength;
  if (Array.isArray(value)) {
    let n = containerHeaderSize(value.length);
    for (const item of value) n += sizeOf(item);
    return n;
  }
  if (value instanceof Map) {
    let n = containerHeaderSize(value.size);
    for (const [k, v] of value) n += sizeOf(k) + sizeOf(v);
    return n;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    let n = containerHeaderSize(keys.length);
    for (const k of keys) n += sizeOf(k) + sizeOf(value[k]);
    return n;
  }
  throw new TypeError(`msgpack: cannot encode a value of type ${typeof value}`);
}

function intSize(v) {
  if (v >= 0) {
    if (v < 0x80) return 1;
    if (v <= 0xff) return 2;
    if (v <= 0xffff) return 3;
    if (v <= 0xffffffff) return 5;
    return 9;
  }
  if (v >= -32) return 1;
  if (v >= -0x80) return 2;
  if (v >= -0x8000) return 3;
  if (v >= -0x80000000) return 5;
  return 9;
}

function strHeaderSize(n) {
  if (n < 32) return 1;
  if (n <= 0xff) return 2;
  if (n <= 0xffff) return 3;
  return 5;
}

function binHeaderSize(n) {
  if (n <= 0xff) return 2;
  if (n <= 0xffff) return 3;
  return 5;
}

function containerHeaderSize(n) {
  if (n < 16) return 1;
  if (n <= 0xffff) return 3;
  return 5;
}

class Writer {
  constructor(buf, offset) {
    this.buf = buf;
    this.pos = offset;
  }

  write(value) {
    const b = this.buf;
    if (value === null || value === undefined) {
      b[this.pos++] = 0xc0;
    } else if (value === false) {
      b[this.pos++] = 0xc2;
    } else if (value === true) {
      b[this.pos++] = 0xc3;
    } else if (typeof value === 'number') {
      if (Number.isSafeInteger(value) && !Object.is(value, -0)) this.int(value);
      else this.float(value);
    } else if (typeof value === 'bigint') {
      this.bigint(value);
    } else if (typeof value === 'string') {
      this.str(value);
    } else if (value instanceof Uint8Array) {
      this.binHeader(value.length);
      b.set(value, this.pos);
      this.pos += value.length;
    } else if (value instanceof ArrayBuffer) {
      this.binHeader(value.byteLength);
      b.set(new Uint8Array(value), this.pos);
      this.pos += value.byteLength;
    } else if (Array.isArray(value)) {
      this.containerHeader(value.length, 0x90, 0xdc, 0xdd);
      for (const item of value) this.write(item);
    } else if (value instanceof Map) {
      this.containerHeader(value.size, 0x80, 0xde, 0xdf);
      for (const [k, v] of value) {
        this.write(k);
        this.write(v);
      }
    } else {
      const keys = Object.keys(value);
      this.containerHeader(keys.length, 0x80, 0xde, 0xdf);
      for (const k of keys) {
        this.str(k);
        this.write(value[k]);
      }
    }
  }

  int(v) {
    const b = this.buf;
    if (v >= 0) {
      if (v < 0x80) {
        b[this.pos++] = v;
      } else if (v <= 0xff) {
        b[this.pos++] = 0xcc;
        b[this.pos++] = v;
      } else if (v <= 0xffff) {
        b[this.pos++] = 0xcd;
        b.writeUInt16BE(v, this.pos);
        this.pos += 2;
      } else if (v <= 0xffffffff) {
        b[this.pos++] = 0xce;
        b.writeUInt32BE(v, this.pos);
        this.pos += 4;
      } else {
        b[this.pos++] = 0xcf;
        b.writeBigUInt64BE(BigInt(v), this.pos);
        this.pos += 8;
      }
    } else if (v >= -32) {
      b[this.pos++] = v & 0xff;
    } else if (v >= -0x80) {
      b[this.pos++] = 0xd0;
      b.writeInt8(v, this.pos);
      this.pos += 1;
    } else if (v >= -0x8000) {
      b[this.pos++] = 0xd1;
      b.writeInt16BE(v, this.pos);
      this.pos += 2;
    } else if (v >= -0x80000000) {
      b[this.pos++] = 0xd2;
      b.writeInt32BE(v, this.pos);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xd3;
      b.writeBigInt64BE(BigInt(v), this.pos);
      this.pos += 8;
    }
  }

  bigint(v) {
    if (v >= 0n) {
      if (v > 0xffffffffffffffffn) throw new RangeError('msgpack: integer above uint64');
      this.buf[this.pos++] = 0xcf;
      this.buf.writeBigUInt64BE(v, this.pos);
    } else {
      if (v < -0x8000000000000000n) throw new RangeError('msgpack: integer below int64');
      this.buf[this.pos++] = 0xd3;
      this.buf.writeBigInt64BE(v, this.pos);
    }
    this.pos += 8;
  }

  float(v) {
    this.buf[this.pos++] = 0xcb;
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  str(s) {
    const b = this.buf;
    const n = Buffer.byteLength(s, 'utf8');
    if (n < 32) {
      b[this.pos++] = 0xa0 | n;
    } else if (n <= 0xff) {
      b[this.pos++] = 0xd9;
      b[this.pos++] = n;
    } else if (n <= 0xffff) {
      b[this.pos++] = 0xda;
      b.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdb;
      b.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
    this.pos += b.write(s, this.pos, n, 'utf8');
  }

  binHeader(n) {
    const b = this.buf;
    if (n <= 0xff) {
      b[this.pos++] = 0xc4;
      b[this.pos++] = n;
    } else if (n <= 0xffff) {
      b[this.pos++] = 0xc5;
      b.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xc6;
      b.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }

  containerHeader(n, fix, code16, code32) {
    const b = this.buf;
    if (n < 16) {
      b[this.pos++] = fix | n;
    } else if (n <= 0xffff) {
      b[this.pos++] = code16;
      b.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      b[this.pos++] = code32;
      b.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }
}

// Encodes one value; JS objects become maps with string keys, Uint8Array/Buffer become bin.
function encode(value) {
  const buf = Buffer.allocUnsafe(sizeOf(value));
  new Writer(buf, 0).write(value);
  return buf;
}

// Encodes one value behind a 4-byte big-endian length prefix: a complete protocol frame.
function encodeFrame(value) {
  const size = sizeOf(value);
  if (size > 0xffffffff) throw new RangeError('msgpack: frame too large');
  const buf = Buffer.allocUnsafe(4 + size);
  buf.writeUInt32BE(size, 0);
  new Writer(buf, 4).write(value);
  return buf;
}

class Reader {
  constructor(buf) {
    this.buf = buf;
    this.pos = 0;
  }

  need(n) {
    if (this.pos + n > this.buf.length) throw new RangeError('msgpack: truncated input');
  }

  u8() {
    this.need(1);
    return this.buf[this.pos++];
  }

  u16() {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32() {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  // Bin values are views into the frame buffer rather than copies; a frame buffer is never
  // reused, so the views stay valid for as long as the caller holds them.
  bytes(n) {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  str(n) {
    this.need(n);
    const v = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  array(n) {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.read();
    return out;
  }

  map(n) {
    const out = {};
    for (let i = 0; i < n; i++) {
      const key = this.read();
      const k = typeof key === 'string' ? key : String(key);
      const v = this.read();
      // A "__proto__" key must become an own property, not replace the object's prototype.
      if (k === '__proto__') {
        Object.defineProperty(out, k, {value: v, enumerable: true, writable: true, configurable: true});
      } else {
        out[k] = v;
      }
    }
    return out;
  }

  int64(signed) {
    this.need(8);
    const big = signed ? this.buf.readBigInt64BE(this.pos) : this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big;
  }

  read() {
    const c = this.u8();
    if (c <= 0x7f) return c;
    if (c >= 0xe0) return c - 0x100;
    if ((c & 0xe0) === 0xa0) return this.str(c & 0x1f);
    if ((c & 0xf0) === 0x90) return this.array(c & 0x0f);
    if ((c & 0xf0) === 0x80) return this.map(c & 0x0f);
    let v;
    switch (c) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bytes(this.u8());
      case 0xc5: return this.bytes(this.u16());
      case 0xc6: return this.bytes(this.u32());
      case 0xca:
        this.need(4);
        v = this.buf.readFloatBE(this.pos);
        this.pos += 4;
        return v;
      case 0xcb:
        this.need(8);
        v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: return this.int64(false);
      case 0xd0:
        this.need(1);
        return this.buf.readInt8(this.pos++);
      case 0xd1:
        this.need(2);
        v = this.buf.readInt16BE(this.pos);
        this.pos += 2;
        return v;
      case 0xd2:
        this.need(4);
        v = this.buf.readInt32BE(this.pos);
        this.pos += 4;
        return v;
      case 0xd3: return this.int64(true);
      case 0xd9: return this.str(this.u8());
      case 0xda: return this.str(this.u16());
      case 0xdb: return this.str(this.u32());
      case 0xdc: return this.array(this.u16());
      case 0xdd: return this.array(this.u32());
      case 0xde: return this.map(this.u16());
      case 0xdf: return this.map(this.u32());
      default:
        throw new TypeError(`msgpack: unsupported type byte 0x${c.toString(16)}`);
    }
  }
}

// Decodes exactly one value that must fill the whole buffer (one frame body).
function decode(buf) {
  const reader = new Reader(buf);
  const value = reader.read();
  if (reader.pos !== buf.length) throw new RangeError('msgpack: trailing bytes after value');
  return value;
}

// Reassembles length-prefixed frames from socket chunks. Chunks are kept as a list and joined
// only when a frame straddles them, so a frame that arrives whole is decoded without a copy.
class FrameReader {
  constructor(maxFrameBytes = 64 * 1024 * 1024) {
    this.chunks = [];
    this.length = 0;
    this.maxFrameBytes = maxFrameBytes;
  }

  push(chunk) {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  // Returns the next frame body (a Buffer), or null when more bytes are needed.
  next() {
    if (this.length < 4) return null;
    if (this.chunks[0].length < 4) this.flatten();
    const size = this.chunks[0].readUInt32BE(0);
    if (size > this.maxFrameBytes) throw new RangeError(`frame of ${size} bytes exceeds the limit`);
    if (this.length < 4 + size) return null;
    if (this.chunks[0].length < 4 + size) this.flatten();
    const head = this.chunks[0];
    const body = head.subarray(4, 4 + size);
    if (head.length === 4 + size) this.chunks.shift();
    else this.chunks[0] = head.subarray(4 + size);
    this.length -= 4 + size;
    return body;
  }

  flatten() {
    this.chunks = [Buffer.concat(this.chunks, this.length)];
  }
}

module.exports = {encode, encodeFrame, decode, FrameReader};
