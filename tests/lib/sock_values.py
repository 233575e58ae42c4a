# sock_values.py PORT [STATE] - read `kashim --status --json` on stdin and
# print "KEEPALIVE IDLE INTERVAL COUNT USER_TIMEOUT" of the first TCP
# socket in STATE (ESTABLISHED) that has a peer and PORT at either end;
# nothing when there is none. The one reader of a socket's values that
# the shell tests share:  kashim --status PID --json | python3 sock_values.py PORT
import json
import sys

port = int(sys.argv[1])
state = sys.argv[2] if len(sys.argv) > 2 else "ESTABLISHED"
d = json.load(sys.stdin)
for s in [s for p in d.get("processes", [d]) for s in p["sockets"]]:
    if s["state"] != state or not s["peer"]:
        continue
    if port in (s["peer"]["port"], s["local"]["port"]):
        print(int(s["keepalive"] is True), s["idle"], s["interval"],
              s["count"], s["user_timeout"])
        break
