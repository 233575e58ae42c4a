#!/usr/bin/env python3
"""kube-api.py PORTFILE - the least of a Kubernetes API server, on
127.0.0.1 (a free port, written to PORTFILE), for `kubectl apply
--dry-run=client`: the legacy discovery documents for the kinds
deploy/kubernetes/ uses, and 404 for every object, so that kubectl
resolves each kind and reports what it would create. It stores nothing
and accepts no write. It exits after 60 s at most."""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def res(name, kind, namespaced):
    return {"name": name, "singularName": kind.lower(), "kind": kind,
            "namespaced": namespaced, "verbs": VERBS}


DOCS = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": []},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "apps",
         "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        res("namespaces", "Namespace", False),
        res("configmaps", "ConfigMap", True)]},
    "/apis/apps/v1": {"kind": "APIResourceList", "groupVersion": "apps/v1",
                      "resources": [res("daemonsets", "DaemonSet", True)]},
}


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path in DOCS:
            self.reply(200, DOCS[path])
        else:
            self.reply(404, {"kind": "Status", "apiVersion": "v1",
                             "status": "Failure", "reason": "NotFound",
                             "code": 404})

    do_POST = do_PUT = do_PATCH = do_DELETE = lambda self: self.reply(
        405, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
              "code": 405})

    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(srv.server_address[1]))
threading.Timer(60, srv.shutdown).start()
srv.serve_forever()
