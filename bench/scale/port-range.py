"""How many sockets can take an ephemeral port on one loopback source address.

Node's net.connect({ localAddress }) binds the socket to (localAddress, port 0) before it
connects, so the kernel picks the port at bind(2) time from net.ipv4.ip_local_port_range,
among the ports that address has free. This does the same bind(2), without connecting.

    python3 port-range.py hold <address> <count>   # bind <count> sockets, print, wait for stdin EOF
    python3 port-range.py fill <address> <spare>   # bind until it fails, print the count and the
                                                   # error, then bind one on <spare>

A process holds at most `ulimit -n` sockets, so run.ts starts one `hold` process and then
one `fill` process on the same address: their total is the number of ports one address has.
"""
import socket
import sys

mode, address = sys.argv[1], sys.argv[2]
held = []


def bind(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((addr, 0))
    except OSError:
        s.close()
        raise
    held.append(s)
    return s.getsockname()[1]


if mode == 'hold':
    for _ in range(int(sys.argv[3])):
        bind(address)
    print(f'held {len(held)}', flush=True)
    sys.stdin.read()
elif mode == 'fill':
    error = ''
    while True:
        try:
            bind(address)
        except OSError as e:
            error = f'{e.__class__.__name__} errno {e.errno} ({e.strerror})'
            break
    count = len(held)
    try:
        port = bind(sys.argv[3])
        spare = f'ok (port {port})'
    except OSError as e:
        spare = f'{e.__class__.__name__} errno {e.errno} ({e.strerror})'
    print(f'filled {count} error {error} spare {spare}', flush=True)
