#!/usr/bin/env python3
"""dhcp_client.py - a small DHCP client and load generator for the DHCP
interop tests (run inside a test network namespace only).

  dhcp_client.py load IFACE N         N simulated clients (MACs 02:4d:..)
                                      do DISCOVER/OFFER/REQUEST/ACK at once;
                                      prints "ok N distinct SECONDS" or fails
  dhcp_client.py pxe IFACE MAC ARCH   a PXE client: DISCOVER with option 60
                                      PXEClient and 93 = ARCH; prints every
                                      offer as JSON lines, one per server
  dhcp_client.py boot IFACE SERVER CIADDR MAC ARCH
                                      PXE boot-server REQUEST to SERVER:4011
                                      from CIADDR; prints the ACK as JSON
  dhcp_client.py raw IFACE HEXFILE    broadcast the bytes of a file to :67
  dhcp_client.py decline IFACE MAC IP SERVER
                                      a DECLINE of IP from MAC (forged)
  dhcp_client.py relayed IFACE N GIADDR
                                      N DISCOVERs (MACs 02:52:..) that say
                                      they were relayed by GIADDR; prints
                                      the number of replies seen

Replies are asked for by broadcast (flag 0x8000), since simulated MACs do
not exist on the link.
"""
import json
import os
import socket
import struct
import sys
import time

COOKIE = b"\x63\x82\x53\x63"


def encode(op_type, mac, xid, opts, ciaddr="0.0.0.0", flags=0x8000):
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0,
                      flags, socket.inet_aton(ciaddr), b"\0" * 4,
                      b"\0" * 4, b"\0" * 4, mac + b"\0" * 10, b"", b"")
    body = bytes([53, 1, op_type])
    for code, val in opts:
        body += bytes([code, len(val)]) + val
    body += b"\xff"
    pkt = hdr + COOKIE + body
    return pkt + b"\0" * max(0, 300 - len(pkt))


def decode(pkt):
    if len(pkt) < 240 or pkt[236:240] != COOKIE:
        return None
    (op, _, _, _, xid, _, flags, ci, yi, si, gi, chaddr, sname,
     bfile) = struct.unpack("!BBBBIHH4s4s4s4s16s64s128s", pkt[:236])
    opts = {}
    i = 240
    while i < len(pkt):
        c = pkt[i]
        if c == 0:
            i += 1
            continue
        if c == 255 or i + 1 >= len(pkt):
            break
        n = pkt[i + 1]
        opts[c] = opts.get(c, b"") + pkt[i + 2:i + 2 + n]
        i += 2 + n
    return {
        "op": op, "xid": xid, "flags": flags,
        "ciaddr": socket.inet_ntoa(ci), "yiaddr": socket.inet_ntoa(yi),
        "siaddr": socket.inet_ntoa(si), "mac": chaddr[:6].hex(":"),
        "sname": sname.split(b"\0")[0].decode("latin1"),
        "file": bfile.split(b"\0")[0].decode("latin1"),
        "type": opts.get(53, b"\0")[0],
        "server_id": socket.inet_ntoa(opts[54]) if len(opts.get(54, b"")) == 4 else "",
        "vendor_class": opts.get(60, b"").decode("latin1"),
        "bootfile": opts.get(67, b"").rstrip(b"\0").decode("latin1"),
        "lease": struct.unpack("!I", opts[51])[0] if len(opts.get(51, b"")) == 4 else None,
        "opt43": opts.get(43, b"").hex(),
        "has_router": 3 in opts, "has_netmask": 1 in opts,
    }


def sock(iface, port=68, bind_ip=""):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((bind_ip, port))
    return s


def collect(s, want, timeout):
    """Receive replies until want(reply) says stop or timeout passes."""
    end = time.time() + timeout
    while True:
        left = end - time.time()
        if left <= 0:
            return
        s.settimeout(left)
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            return
        r = decode(data)
        if r is not None and r["op"] == 2:
            r["src"] = "%s:%d" % src
            if want(r):
                return


def load(iface, n):
    s = sock(iface)
    macs = [bytes([2, 0x4D, 0, 0, i >> 8, i & 255]) for i in range(n)]
    xids = {0x4D000000 + i: i for i in range(n)}
    offers, acks = {}, {}
    t0 = time.time()
    for attempt in range(5):
        todo = [i for i in range(n) if i not in offers]
        for i in todo:
            s.sendto(encode(1, macs[i], 0x4D000000 + i, [(55, b"\x01\x03\x06")]),
                     ("255.255.255.255", 67))
            if i % 50 == 49:
                time.sleep(0.01)

        def got_offer(r):
            if r["type"] == 2 and r["xid"] in xids:
                offers[xids[r["xid"]]] = r
            return len(offers) == n
        collect(s, got_offer, 3)
        if len(offers) == n:
            break
    for attempt in range(5):
        todo = [i for i in range(n) if i in offers and i not in acks]
        for i in todo:
            o = offers[i]
            s.sendto(encode(3, macs[i], 0x4D000000 + i,
                            [(50, socket.inet_aton(o["yiaddr"])),
                             (54, socket.inet_aton(o["server_id"]))]),
                     ("255.255.255.255", 67))
            if i % 50 == 49:
                time.sleep(0.01)

        def got_ack(r):
            if r["xid"] in xids and r["type"] in (5, 6):
                acks[xids[r["xid"]]] = r
            return len(acks) == len(offers)
        collect(s, got_ack, 3)
        if len(acks) == len(offers):
            break
    dt = time.time() - t0
    addrs = [a["yiaddr"] for a in acks.values() if a["type"] == 5]
    distinct = len(set(addrs))
    print("offers %d acks %d distinct %d seconds %.2f" %
          (len(offers), len(addrs), distinct, dt))
    return 0 if distinct == n and len(addrs) == n else 1


def pxe(iface, mac, arch):
    s = sock(iface)
    m = bytes.fromhex(mac.replace(":", ""))
    vc = ("PXEClient:Arch:%05d:UNDI:002001" % arch).encode()
    xid = int.from_bytes(os.urandom(4), "big")
    s.sendto(encode(1, m, xid, [(60, vc), (93, struct.pack("!H", arch)),
                                (94, b"\x01\x02\x01"),
                                (97, b"\0" + b"\x11" * 16),
                                (55, bytes([1, 3, 6, 43, 54, 60, 66, 67, 97]))]),
             ("255.255.255.255", 67))
    seen = []

    def got(r):
        if r["xid"] == xid and r["type"] == 2:
            seen.append(r)
        return False
    collect(s, got, 3)
    for r in seen:
        print(json.dumps(r))
    return 0 if seen else 1


def boot(iface, server, ciaddr, mac, arch):
    s = sock(iface, 0, ciaddr)
    m = bytes.fromhex(mac.replace(":", ""))
    vc = ("PXEClient:Arch:%05d:UNDI:003000" % arch).encode()
    xid = int.from_bytes(os.urandom(4), "big")
    s.sendto(encode(3, m, xid, [(60, vc), (93, struct.pack("!H", arch)),
                                (97, b"\0" + b"\x11" * 16)],
                    ciaddr=ciaddr, flags=0), (server, 4011))
    seen = []

    def got(r):
        if r["xid"] == xid:
            seen.append(r)
            return True
        return False
    collect(s, got, 3)
    for r in seen:
        print(json.dumps(r))
    return 0 if seen else 1


def raw(iface, path):
    s = sock(iface)
    s.sendto(open(path, "rb").read(), ("255.255.255.255", 67))
    return 0


def decline(iface, mac, ip, server):
    s = sock(iface)
    mac_b = bytes.fromhex(mac.replace(":", ""))
    pkt = encode(4, mac_b, 0x4d420001, [(50, socket.inet_aton(ip)),
                                        (54, socket.inet_aton(server))])
    s.sendto(pkt, ("255.255.255.255", 67))
    return 0


def relayed(iface, n, giaddr):
    s = sock(iface)
    for i in range(n):
        mac = bytes([2, 0x52, 0, 0, i >> 8 & 255, i & 255])
        pkt = bytearray(encode(1, mac, 0x4d520000 + i, []))
        pkt[24:28] = socket.inet_aton(giaddr)
        pkt[3] = 1  # hops
        s.sendto(bytes(pkt), ("255.255.255.255", 67))
    seen = []
    collect(s, lambda r: seen.append(r) and False, 1.5)
    print(len(seen))
    return 0


def main(argv):
    cmd = argv[1]
    if cmd == "load":
        return load(argv[2], int(argv[3]))
    if cmd == "pxe":
        return pxe(argv[2], argv[3], int(argv[4]))
    if cmd == "boot":
        return boot(argv[2], argv[3], argv[4], argv[5], int(argv[6]))
    if cmd == "raw":
        return raw(argv[2], argv[3])
    if cmd == "decline":
        return decline(argv[2], argv[3], argv[4], argv[5])
    if cmd == "relayed":
        return relayed(argv[2], int(argv[3]), argv[4])
    print(__doc__, file=sys.stderr)
    return 2


sys.exit(main(sys.argv))
