#!/usr/bin/env python3
"""Helpers of tests/e2e/offload_test.ts that Deno cannot do: socket options and ioctls.

  txcsum-off DEV                      turn off a link's transmit checksum offload (and so its
                                      TSO), so the kernel completes every partial checksum
                                      before sending and the peer sees final checksums
  uso-echo DST PORT SEG COUNT         send COUNT*SEG bytes in one send() with UDP_SEGMENT=SEG
                                      (USO: one super-packet of COUNT datagrams) to an echo
                                      server and report the datagrams that come back
  uso-send DST PORT SEG COUNT         the same without waiting for replies
  recv PORT COUNT                     receive up to COUNT datagrams on [::]:PORT (3 s at most
                                      after the first line "listening" is printed)

Datagram i of a super-packet is SEG bytes of the value (i * 7 + 1) % 256, so a receiver can
tell which datagram it got and that it is whole. Output: one JSON line.
"""

import ctypes
import fcntl
import json
import socket
import struct
import sys

SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x17
SOL_UDP = 17
UDP_SEGMENT = 103


def txcsum_off(dev):
    value = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, 0), 8)
    ifr = bytearray(struct.pack("16sQ", dev.encode(), ctypes.addressof(value)) + bytes(16))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, SIOCETHTOOL, ifr)
    print(json.dumps({"dev": dev, "tx_checksum": False}))


def payload(seg, count):
    return b"".join(bytes([(i * 7 + 1) % 256]) * seg for i in range(count))


def check(datagrams, seg):
    """Indices of the whole datagrams among those received (-1 for a damaged one)."""
    out = []
    for d in datagrams:
        ok = len(d) == seg and d == bytes([d[0]]) * seg
        out.append(((d[0] - 1) * 183) % 256 if ok else -1)  # 183 = 7^-1 mod 256
    return sorted(out)


def uso(dst, port, seg, count, wait):
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.setsockopt(SOL_UDP, UDP_SEGMENT, seg)
        s.connect((dst, port))
        sent = s.send(payload(seg, count))
        got = []
        if wait:
            s.settimeout(3)
            try:
                while len(got) < count:
                    got.append(s.recv(65535))
            except socket.timeout:
                pass
        print(json.dumps({"sent": sent, "received": check(got, seg)}))


def recv(port, count, seg):
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::", port))
        print("listening", flush=True)
        s.settimeout(3)
        got = []
        try:
            while len(got) < count:
                got.append(s.recv(65535))
        except socket.timeout:
            pass
        print(json.dumps({"received": check(got, seg)}), flush=True)


def main(argv):
    cmd = argv[1]
    if cmd == "txcsum-off":
        txcsum_off(argv[2])
    elif cmd in ("uso-echo", "uso-send"):
        uso(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), cmd == "uso-echo")
    elif cmd == "recv":
        recv(int(argv[2]), int(argv[3]), int(argv[4]))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
