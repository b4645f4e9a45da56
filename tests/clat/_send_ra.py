# Sends Router Advertisements with the given raw ND options (hex), for the PREF64 tests.
# Usage: _send_ra.py IFACE SRC HEXOPT [HEXOPT ...]; each HEXOPT is one RA's option bytes
# (several RAs in one run, in order). Router Lifetime 0: the host gets no default route.
# scapy 2.5 has no PREF64 class, so the option goes as Raw bytes after ICMPv6ND_RA.
import sys

from scapy.all import ICMPv6ND_RA, IPv6, Ether, Raw, sendp

iface, src = sys.argv[1], sys.argv[2]
for opt in sys.argv[3:]:
    ra = (
        Ether(dst="33:33:00:00:00:01")
        / IPv6(src=src, dst="ff02::1", hlim=255)
        / ICMPv6ND_RA(routerlifetime=0)
        / Raw(bytes.fromhex(opt))
    )
    sendp(ra, iface=iface, verbose=0)
