#!/usr/bin/env python3
"""pcap2bin.py PCAP PREFIX: write the UDP payload of every DHCP packet
(UDP port 67, 68 or 4011, IPv4 over Ethernet) in a pcap or pcapng file to
PREFIX-N.bin, N counting from 1."""
import struct
import sys


def frames(data):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        e = "<" if magic == b"\xd4\xc3\xb2\xa1" else ">"
        off = 24
        while off + 16 <= len(data):
            incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
            yield data[off + 16:off + 16 + incl]
            off += 16 + incl
        return
    # pcapng: walk blocks, yield Enhanced Packet Blocks
    off = 0
    e = "<"
    while off + 12 <= len(data):
        btype, blen = struct.unpack(e + "II", data[off:off + 8])
        if btype == 0x0A0D0D0A:
            bom = data[off + 8:off + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
        elif btype == 6:
            caplen = struct.unpack(e + "I", data[off + 20:off + 24])[0]
            yield data[off + 28:off + 28 + caplen]
        if blen < 12:
            break
        off += blen


def main():
    data = open(sys.argv[1], "rb").read()
    n = 0
    for f in frames(data):
        if len(f) < 42 or f[12:14] != b"\x08\x00" or f[23] != 17:
            continue
        ihl = (f[14] & 15) * 4
        udp = 14 + ihl
        sport, dport, ulen = struct.unpack(">HHH", f[udp:udp + 6])
        if not ({sport, dport} & {67, 68, 4011}):
            continue
        n += 1
        with open("%s-%d.bin" % (sys.argv[2], n), "wb") as o:
            o.write(f[udp + 8:udp + ulen])
    print("%s: %d packets" % (sys.argv[2], n))


main()
