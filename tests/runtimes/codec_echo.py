"""Test driver: decodes every frame on fd 3 with the Python runtime's msgpack codec and sends the
value straight back re-encoded, so tests/test_runtime_bootstraps.cpp can cross-check the codec
against msgpack-c in both directions."""

import os
import socket
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../sidecar/runtimes/python"))
import natsfn_msgpack as msgpack  # noqa: E402

sock = socket.socket(fileno=3)
stream = sock.makefile("rb")
while True:
    header = stream.read(4)
    if len(header) < 4:
        sys.exit(0)
    (size,) = struct.unpack(">I", header)
    sock.sendall(msgpack.encode_frame(msgpack.decode(stream.read(size))))
