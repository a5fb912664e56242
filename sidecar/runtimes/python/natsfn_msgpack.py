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


_FIXED = {
    # type byte: struct of the fixed-width scalar that follows it
    0xCA: _F32, 0xCB: _F64,
    0xCC: struct.Struct(">B"), 0xCD: _U16, 0xCE: _U32, 0xCF: _U64,
    0xD0: _I8, 0xD1: _I16, 0xD2: _I32, 0xD3: _I64,
}
_BIN, _STR, _ARRAY, _MAP = 0, 1, 2, 3
# str/bin/array/map with a length header after the type byte: (header struct, kind).
_SIZED = {
    0xC4: (_FIXED[0xCC], _BIN), 0xC5: (_U16, _BIN), 0xC6: (_U32, _BIN),
    0xD9: (_FIXED[0xCC], _STR), 0xDA: (_U16, _STR), 0xDB: (_U32, _STR),
    0xDC: (_U16, _ARRAY), 0xDD: (_U32, _ARRAY),
    0xDE: (_U16, _MAP), 0xDF: (_U32, _MAP),
}


# One value at pos: returns (value, next pos). A plain function over locals rather than a reader
# object: decoding is most of this runtime's per-invocation work. Reading past the end raises
# IndexError or struct.error, which decode() reports as truncation; slices are bounds-checked here
# because Python clips them silently.
def _read(buf, view, pos):
    c = buf[pos]
    pos += 1
    if c <= 0x7F:
        return c, pos
    if c >= 0xE0:
        return c - 0x100, pos
    if c >= 0xA0 and c <= 0xBF:
        end = pos + (c & 0x1F)
        if end > len(buf):
            raise MsgpackError("truncated msgpack input")
        return str(view[pos:end], "utf-8", "surrogateescape"), end
    if c >= 0x80 and c <= 0x9F:
        if c <= 0x8F:
            return _read_map(buf, view, pos, c & 0x0F)
        return _read_array(buf, view, pos, c & 0x0F)
    if c == 0xC0:
        return None, pos
    if c == 0xC2:
        return False, pos
    if c == 0xC3:
        return True, pos
    st = _FIXED.get(c)
    if st is not None:
        return st.unpack_from(buf, pos)[0], pos + st.size
    sized = _SIZED.get(c)
    if sized is None:
        raise MsgpackError("unsupported msgpack type byte 0x%02x" % c)
    st, kind = sized
    n = st.unpack_from(buf, pos)[0]
    pos += st.size
    if kind == _MAP:
        return _read_map(buf, view, pos, n)
    if kind == _ARRAY:
        return _read_array(buf, view, pos, n)
    end = pos + n
    if end > len(buf):
        raise MsgpackError("truncated msgpack input")
    if kind == _STR:
        return str(view[pos:end], "utf-8", "surrogateescape"), end
    return bytes(view[pos:end]), end


def _read_array(buf, view, pos, n):
    out = []
    for _ in range(n):
        item, pos = _read(buf, view, pos)
        out.append(item)
    return out, pos


def _read_map(buf, view, pos, n):
    out = {}
    for _ in range(n):
        key, pos = _read(buf, view, pos)
        # Keys must be hashable; bin keys come back as bytes, which are.
        out[key], pos = _read(buf, view, pos)
    return out, pos


def decode(buf):
    """Decodes exactly one value filling buf (bytes, bytearray or memoryview)."""
    view = memoryview(buf)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    try:
        value, pos = _read(view if isinstance(buf, memoryview) else buf, view, 0)
    except (IndexError, struct.error):
        raise MsgpackError("truncated msgpack input") from None
    if pos != len(view):
        raise MsgpackError("trailing bytes after msgpack value")
    return value
