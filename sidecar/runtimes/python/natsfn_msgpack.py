"""A small msgpack codec for the natsfn worker frame protocol.

Workers must not need pip packages at run time, so this covers exactly the subset the protocol
uses: nil, bool, int (64-bit signed and unsigned), float64, str, bin, array and map. Anything else
raises an error rather than being guessed at.
"""

import struct

__all__ = ["encode", "encode_frame", "decode", "MsgpackError"]

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_I8 = struct.Struct(">b")
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_F32 = struct.Struct(">f")
_F64 = struct.Struct(">d")


class MsgpackError(ValueError):
    pass


def _pack_int(v, out):
    if v >= 0:
        if v < 0x80:
            out.append(v)
        elif v <= 0xFF:
            out += b"\xcc"
            out.append(v)
        elif v <= 0xFFFF:
            out += b"\xcd" + _U16.pack(v)
        elif v <= 0xFFFFFFFF:
            out += b"\xce" + _U32.pack(v)
        elif v <= 0xFFFFFFFFFFFFFFFF:
            out += b"\xcf" + _U64.pack(v)
        else:
            raise MsgpackError("integer above uint64: %d" % v)
    elif v >= -32:
        out.append(v & 0xFF)
    elif v >= -0x80:
        out += b"\xd0" + _I8.pack(v)
    elif v >= -0x8000:
        out += b"\xd1" + _I16.pack(v)
    elif v >= -0x80000000:
        out += b"\xd2" + _I32.pack(v)
    elif v >= -0x8000000000000000:
        out += b"\xd3" + _I64.pack(v)
    else:
        raise MsgpackError("integer below int64: %d" % v)


def _pack_header(n, fix_base, fix_limit, codes, out):
    """Writes a length header: fix form when n < fix_limit, else the 8/16/32-bit form."""
    code8, code16, code32 = codes
    if n < fix_limit:
        out.append(fix_base | n)
    elif code8 is not None and n <= 0xFF:
        out.append(code8)
        out.append(n)
    elif n <= 0xFFFF:
        out.append(code16)
        out += _U16.pack(n)
    elif n <= 0xFFFFFFFF:
        out.append(code32)
        out += _U32.pack(n)
    else:
        raise MsgpackError("length %d does not fit msgpack" % n)


def _pack(v, out):
    # bool is a subclass of int, so it must be tested first.
    if v is None:
        out.append(0xC0)
    elif v is True:
        out.append(0xC3)
    elif v is False:
        out.append(0xC2)
    elif isinstance(v, int):
        _pack_int(v, out)
    elif isinstance(v, float):
        out += b"\xcb" + _F64.pack(v)
    elif isinstance(v, str):
        data = v.encode("utf-8", "surrogateescape")
        _pack_header(len(data), 0xA0, 32, (0xD9, 0xDA, 0xDB), out)
        out += data
    elif isinstance(v, (bytes, bytearray, memoryview)):
        n = v.nbytes if isinstance(v, memoryview) else len(v)
        # bin has no fix form: a fix_limit of 0 always takes the 8/16/32-bit header.
        _pack_header(n, 0, 0, (0xC4, 0xC5, 0xC6), out)
        out += v
    elif isinstance(v, (list, tuple)):
        _pack_header(len(v), 0x90, 16, (None, 0xDC, 0xDD), out)
        for item in v:
            _pack(item, out)
    elif isinstance(v, dict):
        _pack_header(len(v), 0x80, 16, (None, 0xDE, 0xDF), out)
        for key, item in v.items():
            _pack(key, out)
            _pack(item, out)
    else:
        raise MsgpackError("cannot encode a value of type %s" % type(v).__name__)


def encode(value):
    """Encodes one value to msgpack bytes."""
    out = bytearray()
    _pack(value, out)
    return bytes(out)


def encode_frame(value):
    """Encodes one value behind a 4-byte big-endian length prefix: one protocol frame."""
    out = bytearray(4)
    _pack(value, out)
    _U32.pack_into(out, 0, len(out) - 4)
    return out


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def take(self, n):
        start = self.pos
        end = start + n
        if end > len(self.buf):
            raise MsgpackError("truncated msgpack input")
        self.pos = end
        return self.buf[start:end]

    def unpack(self, st):
        start = self.pos
        if start + st.size > len(self.buf):
            raise MsgpackError("truncated msgpack input")
        self.pos = start + st.size
        return st.unpack_from(self.buf, start)[0]

    def read(self):
        c = self.take(1)[0]
        if c <= 0x7F:
            return c
        if c >= 0xE0:
            return c - 0x100
        if 0xA0 <= c <= 0xBF:
            return self.str(c & 0x1F)
        if 0x90 <= c <= 0x9F:
            return self.array(c & 0x0F)
        if 0x80 <= c <= 0x8F:
            return self.map(c & 0x0F)
        if c == 0xC0:
            return None
        if c == 0xC2:
            return False
        if c == 0xC3:
            return True
        if c == 0xC4:
            return bytes(self.take(self.take(1)[0]))
        if c == 0xC5:
            return bytes(self.take(self.unpack(_U16)))
        if c == 0xC6:
            return bytes(self.take(self.unpack(_U32)))
        if c == 0xCA:
            return self.unpack(_F32)
        if c == 0xCB:
            return self.unpack(_F64)
        if c == 0xCC:
            return self.take(1)[0]
        if c == 0xCD:
            return self.unpack(_U16)
        if c == 0xCE:
            return self.unpack(_U32)
        if c == 0xCF:
            return self.unpack(_U64)
        if c == 0xD0:
            return self.unpack(_I8)
        if c == 0xD1:
            return self.unpack(_I16)
        if c == 0xD2:
            return self.unpack(_I32)
        if c == 0xD3:
            return self.unpack(_I64)
        if c == 0xD9:
            return self.str(self.take(1)[0])
        if c == 0xDA:
            return self.str(self.unpack(_U16))
        if c == 0xDB:
            return self.str(self.unpack(_U32))
        if c == 0xDC:
            return self.array(self.unpack(_U16))
        if c == 0xDD:
            return self.array(self.unpack(_U32))
        if c == 0xDE:
            return self.map(self.unpack(_U16))
        if c == 0xDF:
            return self.map(self.unpack(_U32))
        raise MsgpackError("unsupported msgpack type byte 0x%02x" % c)

    def str(self, n):
        return str(self.take(n), "utf-8", "surrogateescape")

    def array(self, n):
        return [self.read() for _ in range(n)]

    def map(self, n):
        out = {}
        for _ in range(n):
            key = self.read()
            # Keys must be hashable; bin keys come back as bytes, which are.
            out[key] = self.read()
        return out


def decode(buf):
    """Decodes exactly one value filling buf (bytes, bytearray or memoryview)."""
    reader = _Reader(memoryview(buf))
    value = reader.read()
    if reader.pos != len(reader.buf):
        raise MsgpackError("trailing bytes after msgpack value")
    return value
