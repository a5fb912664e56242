"""Opens N idle TCP connections to HOST:PORT, prints 'open N', and holds them until stdin closes.

The HTTP bench uses it to measure natsfn-http's RSS with many idle keep-alive clients.
"""
import socket
import sys


def main() -> int:
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    conns = []
    for _ in range(count):
        s = socket.create_connection((host, port), timeout=10)
        conns.append(s)
    # One request on each proves every connection is really being served, then they go idle.
    for s in conns:
        s.sendall(b"GET /nope HTTP/1.1\r\nHost: bench\r\n\r\n")
    answered = 0
    for s in conns:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        answered += data.startswith(b"HTTP/1.1 ")
    print(f"open {len(conns)} answered {answered}", flush=True)
    sys.stdin.read()
    for s in conns:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
