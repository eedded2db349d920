#!/usr/bin/env python3
"""tftp_get.py HOST PORT FILE OUT [BLKSIZE [WINDOWSIZE]]

A small RFC 1350/2347/7440 TFTP client for tests/interop/tftp_loss.sh: it
acknowledges at the end of each window, reports a gap once by
acknowledging the last block received in order, re-acknowledges on its own
timeout (restarted only by progress), answers a repeated OACK with ACK 0
again, and lingers after the last block to re-acknowledge it. Exit 0 when
the whole file was received.
"""
import socket
import struct
import sys
import time

host, port, name, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
blksize = int(sys.argv[5]) if len(sys.argv) > 5 else 512
window = int(sys.argv[6]) if len(sys.argv) > 6 else 1
TIMEOUT = 0.3
GIVEUP = 60.0

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(("127.0.0.1", 0))
s.settimeout(TIMEOUT)
req = struct.pack("!H", 1) + name.encode() + b"\0octet\0"
opts = [(b"blksize", str(blksize).encode())]
if window > 1:
    opts.append((b"windowsize", str(window).encode()))
for k, v in opts:
    req += k + b"\0" + v + b"\0"

peer = None
data = bytearray()
last = 0          # last block received in order (32-bit)
since_ack = 0     # in-order blocks since our last ACK
reported = False  # a gap was reported since the last in-order block
progress = time.monotonic()
done = False
s.sendto(req, (host, port))


def ack(n):
    s.sendto(struct.pack("!HH", 4, n & 0xFFFF), peer)


while not done:
    if time.monotonic() - progress > GIVEUP:
        sys.exit("tftp_get: gave up")
    try:
        pkt, addr = s.recvfrom(70000)
    except socket.timeout:
        if peer is None:
            s.sendto(req, (host, port))
        else:
            ack(last)
        continue
    if peer is None:
        peer = addr
    elif addr != peer:
        s.sendto(b"\0\5\0\5Unknown transfer ID\0", addr)
        continue
    op = pkt[1] if len(pkt) >= 2 else 0
    if op == 5:
        sys.exit("tftp_get: ERROR %r" % pkt[2:])
    if op == 6:
        if last == 0:
            ack(0)
        continue
    if op != 3 or len(pkt) < 4:
        continue
    blk = struct.unpack("!H", pkt[2:4])[0]
    if blk == ((last + 1) & 0xFFFF):
        last += 1
        data += pkt[4:]
        since_ack += 1
        reported = False
        progress = time.monotonic()
        if len(pkt) - 4 < blksize:
            ack(last)
            done = True
        elif since_ack >= window:
            ack(last)
            since_ack = 0
    elif not reported:
        ack(last)
        since_ack = 0
        reported = True

# Linger: the server may not have our last ACK.
end = time.monotonic() + 1.0
while time.monotonic() < end:
    try:
        pkt, addr = s.recvfrom(70000)
    except socket.timeout:
        continue
    if addr == peer and len(pkt) >= 4 and pkt[1] == 3:
        ack(last)
with open(out, "wb") as f:
    f.write(data)
