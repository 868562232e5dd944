#!/usr/bin/env python3
"""The credential server's latency for a held (cached) answer, as an SDK sees it: run as
`saml-login -c SECTION exec --server -- python3 scripts/bench-credential-server.py [N]`.
N requests (default 300), each on a new connection with the token; prints the median and
the 90th percentile in milliseconds. Every answer must be 200."""

import http.client
import os
import statistics
import sys
import time
import urllib.parse

url = urllib.parse.urlparse(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
times = []
for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 300):
    start = time.perf_counter()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    conn.request("GET", url.path, headers={"Authorization": token})
    reply = conn.getresponse()
    reply.read()
    conn.close()
    times.append((time.perf_counter() - start) * 1000)
    assert reply.status == 200, reply.status
times.sort()
print(f"median {statistics.median(times):.2f} ms, p90 {times[int(len(times) * 0.9)]:.2f} ms")
