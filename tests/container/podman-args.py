#!/usr/bin/env python3
"""podman-args.py DIR BPFFS CGROUP < kubectl-dry-run.json - the `podman
run` arguments that run the DaemonSet's container as the manifest does:
its image, command, environment, privileges and mounts. Two things are
the test's own, and said so: KASHIM_CGROUPS names the test's cgroup, and
the host's /sys/fs/bpf is a bpffs the test mounted at BPFFS. Each
ConfigMap file mounted is written into DIR and bound read-only. Prints
the arguments one per line, then the expected settings line."""
import json
import os
import sys

tmp, bpffs, cgroup = sys.argv[1:4]
items = json.load(sys.stdin)["items"]
kinds = {i["kind"]: i for i in items}
ds, cm = kinds["DaemonSet"], kinds["ConfigMap"]
spec = ds["spec"]["template"]["spec"]
ctr = spec["containers"][0]
vols = {v["name"]: v for v in spec["volumes"]}
args = []
if ctr.get("securityContext", {}).get("privileged"):
    args.append("--privileged")
for cap in ctr.get("securityContext", {}).get("capabilities", {}).get("add", []):
    args.append("--cap-add=" + cap)
for m in ctr["volumeMounts"]:
    v = vols[m["name"]]
    ro = ":ro" if m.get("readOnly") else ""
    if "hostPath" in v:
        src = v["hostPath"]["path"]
        src = bpffs if src == "/sys/fs/bpf" else src
        args.append("-v=%s:%s%s" % (src, m["mountPath"], ro))
    elif "configMap" in v:
        assert v["configMap"]["name"] == cm["metadata"]["name"]
        path = os.path.join(tmp, m["subPath"])
        with open(path, "w") as f:
            f.write(cm["data"][m["subPath"]])
        os.chmod(path, 0o644)
        args.append("-v=%s:%s%s" % (path, m["mountPath"], ro))
for e in ctr.get("env", []):
    val = cgroup if e["name"] == "KASHIM_CGROUPS" else e["value"]
    args.append("-e=%s=%s" % (e["name"], val))
args.append("--entrypoint=" + json.dumps(ctr["command"]))
args.append(ctr["image"])
print("\n".join(args))
