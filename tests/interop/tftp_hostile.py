#!/usr/bin/env python3
"""tftp_hostile.py HOST PORT ROOT [netns-checks]

Raw-UDP checks against a running metalboot-netboot (see tftp_hostile.sh):
malformed and hostile requests get the right ERROR or are dropped, paths
cannot leave the root, wrong TIDs get ERROR 5 without disturbing the
transfer, duplicate ACKs cause no resends, the EDK II ERROR 8 probe ends
cleanly, a client ignoring the OACK gets RFC 1350 defaults, and a normal download still works after all of it.
Prints one line per check; exits 1 when any failed.
"""
import hashlib
import os
import socket
import struct
import sys
import time

HOST, PORT, ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
MODE = sys.argv[4] if len(sys.argv) > 4 else "main"
fails = 0


def check(ok, what):
    global fails
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        fails += 1


def sock(timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(timeout)
    return s


def rrq(name, mode=b"octet", opts=(), op=1):
    if isinstance(name, str):
        name = name.encode()
    p = struct.pack("!H", op) + name + b"\0" + mode + b"\0"
    for k, v in opts:
        p += k + b"\0" + v + b"\0"
    return p


def recv(s):
    try:
        data, addr = s.recvfrom(70000)
        return data, addr
    except socket.timeout:
        return None, None


def expect_error(pkt, code, what, host=None):
    s = sock()
    s.sendto(pkt, (host or HOST, PORT))
    data, _ = recv(s)
    got = None
    if data and len(data) >= 4 and data[1] == 5:
        got = struct.unpack("!H", data[2:4])[0]
    check(got == code, "%s -> ERROR %s (got %s)" % (what, code,
          got if data is None or data[1] == 5 else "opcode %d" % data[1]))
    s.close()


def expect_silence(pkt, what, wait=0.7):
    s = sock(wait)
    s.sendto(pkt, (HOST, PORT))
    data, _ = recv(s)
    check(data is None, "%s -> dropped" % what)
    s.close()


def parse_oack(data):
    items = data[2:].split(b"\0")[:-1]
    return {items[i].decode().lower(): items[i + 1].decode()
            for i in range(0, len(items) - 1, 2)}


def fetch(name, opts=(), dup_acks=False, host=None):
    """Download name; return (bytes or None, oack dict, DATA count)."""
    s = sock(3.0)
    s.sendto(rrq(name, opts=opts), (host or HOST, PORT))
    blksize = 512
    out = bytearray()
    oack = {}
    expect = 1
    ndata = 0
    peer = None
    seen = set()
    resent = 0
    while True:
        data, addr = recv(s)
        if data is None:
            return None, oack, ndata, resent, peer
        if peer is None:
            peer = addr
        if addr != peer:
            continue
        op = data[1]
        if op == 6:
            oack = parse_oack(data)
            blksize = int(oack.get("blksize", 512))
            s.sendto(struct.pack("!HH", 4, 0), peer)
            continue
        if op == 5:
            return None, oack, ndata, resent, peer
        if op != 3:
            continue
        ndata += 1
        blk = struct.unpack("!H", data[2:4])[0]
        if blk in seen and blk != (expect & 0xFFFF):
            resent += 1
        if blk == (expect & 0xFFFF):
            seen.add(blk)
            out += data[4:]
            s.sendto(struct.pack("!HH", 4, blk), peer)
            if dup_acks:
                s.sendto(struct.pack("!HH", 4, blk), peer)
            expect += 1
            if len(data) - 4 < blksize:
                return bytes(out), oack, ndata, resent, peer
        else:
            resent += 1


def fetch_ignoring_oack(name, opts, plain_again=False):
    """An RFC 1350 client handed options: it ignores the OACK and sends
    its request again from the same port (the same one, or with
    plain_again one without options). Returns (bytes or None, OACKs seen,
    the DATA 1 length)."""
    s = sock(3.0)
    s.sendto(rrq(name, opts=opts), (HOST, PORT))
    peer = None
    oacks = 0
    first_len = None
    out = bytearray()
    expect = 1
    while True:
        data, addr = recv(s)
        if data is None:
            return None, oacks, first_len
        if peer is None:
            peer = addr
        if addr != peer:
            continue
        if data[1] == 6:
            oacks += 1
            if oacks > 3:
                return None, oacks, first_len
            again = rrq(name) if plain_again else rrq(name, opts=opts)
            s.sendto(again, (HOST, PORT))
            continue
        if data[1] != 3:
            return None, oacks, first_len
        blk = struct.unpack("!H", data[2:4])[0]
        if blk == 1 and first_len is None:
            first_len = len(data) - 4
        if blk == (expect & 0xFFFF):
            out += data[4:]
            s.sendto(struct.pack("!HH", 4, blk), peer)
            expect += 1
            if len(data) - 4 < 512:
                return bytes(out), oacks, first_len


def sha(b):
    return hashlib.sha256(b).hexdigest()


def file_bytes(name):
    with open(os.path.join(ROOT, name), "rb") as f:
        return f.read()


def dup_ack_storm():
    """A windowed transfer whose client reports a gap, then repeats the
    same ACK 50 times, one every 0.3 ms. Counts the DATA that follow."""
    win = 64
    s = sock(0.3)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    except OSError:
        pass
    s.sendto(rrq("big", opts=[(b"blksize", b"1024"),
                              (b"windowsize", b"%d" % win)]), (HOST, PORT))
    data, peer = recv(s)
    if data is None or data[1] != 6:
        check(False, "dup-ACK storm: no OACK")
        return
    s.sendto(struct.pack("!HH", 4, 0), peer)
    first = 0
    while first < win:
        data, _ = recv(s)
        if data is None:
            break
        first += data[1] == 3
    t0 = time.monotonic()
    for _ in range(51):
        s.sendto(struct.pack("!HH", 4, 10), peer)
        end = time.monotonic() + 0.0003
        while time.monotonic() < end:
            pass
    storm_ms = (time.monotonic() - t0) * 1000
    # Collect for 60 ms: the server's retransmission timer (20 ms at
    # first, doubling) adds at most two windows of its own meanwhile.
    n = 0
    s.settimeout(0.06)
    while True:
        data, _ = recv(s)
        if data is None:
            break
        n += data[1] == 3
    s.sendto(b"\0\5\0\0storm over\0", peer)
    s.close()
    # One restart for the gap, one per 20 ms of storm, two timer resends.
    budget = win * (1 + int(storm_ms // 20) + 1 + 2)
    check(first == win and n <= budget,
          "dup-ACK storm: %d DATA after 51 gap ACKs in %.0f ms (at most "
          "%d; first window %d)" % (n, storm_ms, budget, first))


def main_checks():
    good = file_bytes("good")

    # Truncated and malformed requests.
    expect_silence(b"\0", "1-byte packet")
    expect_silence(b"", "empty datagram")
    expect_error(b"\0\1", 4, "opcode only")
    expect_error(b"\0\1good", 4, "file name without NUL")
    expect_error(b"\0\1good\0", 4, "no mode")
    expect_error(b"\0\1good\0octet", 4, "mode without NUL")
    expect_error(rrq("good", opts=[(b"blksize", b"512")])[:-1], 4,
                 "option value without NUL")
    expect_error(rrq("good") + b"blksize\0", 4, "option without value")
    expect_error(rrq("good", op=9), 4, "unknown opcode 9")
    expect_error(rrq("good", op=0), 4, "opcode 0")
    expect_error(rrq("good", op=0xffff), 4, "opcode 65535")
    expect_error(rrq("good", mode=b"mail"), 4, "mode mail")
    expect_error(rrq("good", mode=b"netascii"), 4, "mode netascii")
    expect_error(rrq("good", mode=b"bogus"), 4, "mode bogus")
    expect_error(rrq("a" * 600), 4, "600-byte request")
    expect_error(b"\0\1" + b"x" * 65000, 4, "65002-byte datagram")
    expect_error(rrq("good", opts=[(b"blksize", b"512"),
                                   (b"BLKSIZE", b"1024")]),
                 8, "duplicate option")
    expect_error(rrq("good", opts=[(b"o%d" % i, b"1") for i in range(40)]),
                 8, "40 options")
    expect_error(rrq("good", opts=[(b"x" * 250, b"y" * 260)]), 4,
                 "huge option over 512 bytes")
    # Strays on the request port get nothing (never answer an ERROR).
    expect_silence(b"\0\5\0\0oops\0", "ERROR to port 69")
    expect_silence(b"\0\4\0\1", "ACK to port 69")
    expect_silence(b"\0\3\0\1data", "DATA to port 69")

    # Writes are refused.
    expect_error(rrq("upload", op=2), 2, "WRQ")

    # Paths.
    expect_error(rrq("../etc/passwd"), 2, "../etc/passwd")
    expect_error(rrq("..\\..\\etc\\passwd"), 2, "..\\..\\etc\\passwd")
    expect_error(rrq("sub/../../good"), 2, "sub/../../good")
    expect_error(rrq("./good"), 2, "./good")
    expect_error(rrq("/etc/passwd"), 1, "/etc/passwd (inside the root)")
    expect_error(rrq("escape"), 2, "symlink out of the root")
    expect_error(rrq("sub/escape-dir/passwd"), 2,
                 "through a symlinked dir outside")
    expect_error(rrq("sub"), 2, "a directory")
    expect_error(rrq("fifo"), 2, "a FIFO")
    expect_error(rrq("missing"), 1, "missing file")
    expect_error(rrq(b"go\x01od"), 2, "control byte")
    expect_error(rrq(""), 2, "empty name")
    data, _, _, _, _ = fetch("alias")
    check(data == good, "symlink inside the root is served")
    data, _, _, _, _ = fetch("\\sub\\inner")
    check(data is not None and data == file_bytes("sub/inner"),
          "\\sub\\inner maps to sub/inner")
    data, _, _, _, _ = fetch("/sub/inner")
    check(data is not None and data == file_bytes("sub/inner"),
          "/sub/inner maps to sub/inner")

    # Options out of range: ignored, so RFC 1350 defaults and no OACK.
    data, oack, _, _, _ = fetch("good", opts=[(b"blksize", b"4"),
                                              (b"timeout", b"0"),
                                              (b"windowsize", b"0")])
    check(data == good and oack == {}, "out-of-range options ignored")
    data, oack, _, _, _ = fetch("good", opts=[(b"blksize", b"100000"),
                                              (b"tsize", b"0")])
    check(data == good and oack.get("blksize") == "65464" and
          oack.get("tsize") == str(len(good)),
          "blksize 100000 -> 65464, tsize %s" % oack)
    data, oack, _, _, _ = fetch("good", opts=[(b"bogus", b"1"),
                                              (b"blksize", b"1468")])
    check(data == good and set(oack) == {"blksize"},
          "unknown option never acknowledged")

    # Wrong TID: ERROR 5 to the intruder, the transfer goes on.
    s = sock()
    s.sendto(rrq("good", opts=[(b"blksize", b"1024")]), (HOST, PORT))
    data, peer = recv(s)
    check(data is not None and data[1] == 6, "OACK for the TID test")
    intruder = sock()
    intruder.sendto(struct.pack("!HH", 4, 0), peer)
    idata, _ = recv(intruder)
    check(idata is not None and idata[:4] == b"\0\5\0\5",
          "wrong TID gets ERROR 5")
    intruder.close()
    s.sendto(struct.pack("!HH", 4, 0), peer)
    out = bytearray()
    while True:
        data, addr = recv(s)
        if data is None or data[1] != 3:
            break
        out += data[4:]
        s.sendto(data[:1] + b"\4" + data[2:4], peer)
        if len(data) - 4 < 1024:
            break
    check(bytes(out) == good, "transfer unharmed by the intruder")
    s.close()

    # No sorcerer's apprentice: every ACK sent twice, no DATA twice.
    data, _, ndata, resent, _ = fetch("big", dup_acks=True,
                                      opts=[(b"blksize", b"512")])
    big = file_bytes("big")
    check(data == big and resent == 0,
          "duplicate ACKs cause no resends (%d DATA, %d resent)" %
          (ndata, resent))

    # A duplicate-ACK storm with a window: 50 copies of a gap ACK sent
    # over a few milliseconds restart the window at most once per 20 ms
    # (the RTO floor), not once per millisecond (issue 14: ~2,900 DATA).
    dup_ack_storm()

    # EDK II: tsize probe refused with ERROR 8, then the real request.
    s = sock()
    s.sendto(rrq("good", opts=[(b"tsize", b"0"), (b"blksize", b"1468")]),
             (HOST, PORT))
    data, peer = recv(s)
    o = parse_oack(data) if data and data[1] == 6 else {}
    check(o.get("tsize") == str(len(good)), "probe OACK carries tsize")
    s.sendto(b"\0\5\0\x08refused\0", peer)
    s.close()
    data, oack, _, _, _ = fetch("good", opts=[(b"blksize", b"1468")])
    check(data == good, "download after the ERROR 8 probe")

    # An OACK never ACKed, a client gone: the server resends, the others
    # are served meanwhile.
    s = sock()
    s.sendto(rrq("good", opts=[(b"blksize", b"1468")]), (HOST, PORT))
    first, _ = recv(s)
    again, _ = recv(s)
    check(first is not None and again == first,
          "OACK resent on timeout")
    s.close()

    # A client that ignores the OACK and asks again from the same port:
    # the OACK once more (it may have been lost), then RFC 1350 defaults.
    data, oacks, first = fetch_ignoring_oack(
        "good", [(b"blksize", b"1468"), (b"tsize", b"0")])
    check(data == good and oacks == 2 and first == 512,
          "OACK ignored: 512-byte blocks after the request came twice "
          "more (%s OACKs, DATA 1 of %s bytes)" % (oacks, first))
    data, oacks, first = fetch_ignoring_oack(
        "good", [(b"blksize", b"1468")], plain_again=True)
    check(data == good and oacks == 1 and first == 512,
          "OACK ignored, request again without options: defaults at once "
          "(%s OACKs)" % oacks)

    # Still serving after all of it.
    data, _, _, _, _ = fetch("good")
    check(data == good, "normal download after the hostile input")


def netns_checks():
    """Inside a private netns where lo has MTU 9000 and the server
    listens on every address: blksize is clamped to MTU - 32, and the
    reply comes from the address the request was sent to."""
    good = file_bytes("good")
    data, oack, _, _, peer = fetch("good", host="127.0.0.2",
                                   opts=[(b"blksize", b"65464")])
    check(data == good and oack.get("blksize") == str(9000 - 32),
          "blksize clamped to MTU 9000 - 32 (%s)" % oack.get("blksize"))
    check(peer is not None and peer[0] == "127.0.0.2",
          "reply from the address the RRQ hit (%s)" % (peer,))
    data, oack, _, _, _ = fetch("good", host="127.0.0.3",
                                opts=[(b"blksize", b"1468")])
    check(data == good and oack.get("blksize") == "1468",
          "blksize below the MTU granted as asked")


def limits_checks():
    """Against a server started with --tftp-max-transfers 3 and
    --tftp-max-per-client 2: requests over a cap are dropped, clients
    that vanish are freed after the retries, and then requests are
    served again."""
    good = file_bytes("good")
    opts = [(b"blksize", b"1024"), (b"timeout", b"1")]

    def open_one(src):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.settimeout(1.0)
        s.sendto(rrq("good", opts=opts), (HOST, PORT))
        data, _ = recv(s)
        return s, data

    a1, d1 = open_one("127.0.0.1")
    a2, d2 = open_one("127.0.0.1")
    a3, d3 = open_one("127.0.0.1")
    check(d1 is not None and d1[1] == 6 and d2 is not None and d2[1] == 6,
          "two transfers for one client")
    check(d3 is None, "a third for the same client is dropped")
    b1, e1 = open_one("127.0.0.2")
    check(e1 is not None and e1[1] == 6, "another client is served")
    c1, f1 = open_one("127.0.0.3")
    check(f1 is None, "past the total cap: dropped")
    # Nobody answers: the transfers are given up and freed.
    t0 = time.time()
    for s in (a1, a2, a3, b1, c1):
        s.close()
    time.sleep(34)
    data, _, _, _, _ = fetch("good")
    check(data == good, "served again once the silent clients were freed "
          "(%.0f s)" % (time.time() - t0))
    data, _, _, _, _ = fetch("good", opts=[(b"blksize", b"1468")])
    check(data == good, "and again")


if MODE == "netns":
    netns_checks()
elif MODE == "limits":
    limits_checks()
else:
    main_checks()
sys.exit(1 if fails else 0)
