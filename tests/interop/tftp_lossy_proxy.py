#!/usr/bin/env python3
"""tftp_lossy_proxy.py LISTEN_PORT SERVER_PORT LOSS REORDER SEED

A UDP relay on 127.0.0.1 that loses and reorders TFTP packets in both
directions, for tests/interop/tftp_loss.sh (a stand-in for tc netem where
the kernel has no sch_netem). Each client address gets its own upstream
socket; the server's transfer port is learnt from its first reply and the
client sees the relay's port as the server's TID. LOSS and REORDER are
probabilities: a reordered packet is held back and sent after the next
packet of the same direction (or after 5 ms).
"""
import random
import selectors
import socket
import sys
import time

LPORT, SPORT = int(sys.argv[1]), int(sys.argv[2])
LOSS, REORDER = float(sys.argv[3]), float(sys.argv[4])
rng = random.Random(int(sys.argv[5]))
SERVER = ("127.0.0.1", SPORT)

sel = selectors.DefaultSelector()
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
front.bind(("127.0.0.1", LPORT))
front.setblocking(False)
sel.register(front, selectors.EVENT_READ, None)

sessions = {}  # client addr -> [upstream socket, server tid or None]
held = {}      # direction key -> (deadline, send function)


def forward(key, send):
    if rng.random() < LOSS:
        return
    prev = held.pop(key, None)
    if rng.random() < REORDER and prev is None:
        held[key] = (time.monotonic() + 0.005, send)
        return
    send()
    if prev is not None:
        prev[1]()


def flush_held():
    now = time.monotonic()
    for key in [k for k, v in held.items() if v[0] <= now]:
        held.pop(key)[1]()


print("ready", flush=True)
while True:
    for k, _ in sel.select(timeout=0.002):
        s = k.fileobj
        for _ in range(64):
            try:
                data, addr = s.recvfrom(70000)
            except BlockingIOError:
                break
            if s is front:
                sess = sessions.get(addr)
                if sess is None:
                    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    up.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                                  4 << 20)
                    up.bind(("127.0.0.1", 0))
                    up.setblocking(False)
                    sess = [up, None]
                    sessions[addr] = sess
                    sel.register(up, selectors.EVENT_READ, addr)
                    # The request itself is never lost: it is not what
                    # the test is about, and clients wait long for it.
                    up.sendto(data, SERVER)
                    continue
                dest = sess[1] or SERVER
                forward(("up", addr),
                        lambda u=sess[0], d=data, t=dest: u.sendto(d, t))
            else:
                client = k.data
                sess = sessions[client]
                if sess[1] is None:
                    sess[1] = addr
                forward(("down", client),
                        lambda d=data, c=client: front.sendto(d, c))
    flush_held()
