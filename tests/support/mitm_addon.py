"""A mitmproxy addon for the corporate-network tests (tests/support/mitm.rs).

`MITM_MAP` = `host=127.0.0.1:PORT[,host=...]`: requests to those made-up host names
(`sts.example.test`) go to the loopback servers, over plain HTTP (moto, the test IdP,
federation.py). `MITM_FLOW_LOG` = a file: one JSON line per thing the proxy saw: each
`CONNECT` (`{"connect": "host:port"}`) and each request
(`{"host", "method", "path"}`), so tests assert what went through the proxy. A request
to a host that is not mapped is answered 502 here: nothing goes out to the Internet.
"""

import json
import os

from mitmproxy import http

MAP = {}
for item in filter(None, os.environ.get("MITM_MAP", "").split(",")):
    name, target = item.split("=", 1)
    host, port = target.rsplit(":", 1)
    MAP[name] = (host, int(port))
LOG = os.environ["MITM_FLOW_LOG"]


def _log(entry):
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def http_connect(flow):
    _log({"connect": f"{flow.request.host}:{flow.request.port}"})


def request(flow):
    host = flow.request.pretty_host
    _log({"host": host, "method": flow.request.method, "path": flow.request.path.split("?")[0]})
    if host in MAP:
        target_host, target_port = MAP[host]
        flow.request.scheme = "http"
        flow.request.host = target_host
        flow.request.port = target_port
    else:
        flow.response = http.Response.make(502, b"not mapped by the test proxy", {"Content-Type": "text/plain"})
