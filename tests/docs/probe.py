#!/usr/bin/env python3
"""probe.py - connect once over loopback and print, as JSON, what the
kernel holds on the client socket (SO_KEEPALIVE, TCP_KEEPIDLE,
TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT), the LD_PRELOAD this
process got, and which kashim files are mapped into it."""
import json
import os
import socket

TCP_USER_TIMEOUT = getattr(socket, "TCP_USER_TIMEOUT", 18)

lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lst.bind(("127.0.0.1", 0))
lst.listen(1)
cli = socket.create_connection(lst.getsockname(), timeout=5)
out = {
    "keepalive": cli.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
    "idle": cli.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
    "interval": cli.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
    "count": cli.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
    "user_timeout": cli.getsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT),
    "preload": os.environ.get("LD_PRELOAD", ""),
}
with open("/proc/self/maps") as maps:
    out["mapped"] = sorted({line.split()[-1] for line in maps
                            if "kashim" in line.split()[-1]})
cli.close()
lst.close()
print(json.dumps(out))
