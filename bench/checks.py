"""HTTP and DNS checks, journeyprobe against blackbox_exporter, at equal concurrency, against
loopback targets: the fault lab's /healthz and its dnsmasq's record for app.fault-lab.test.

journeyprobe runs a generated probe file of N http and N dns checks with `run` (16 at a
time, its fixed check concurrency); blackbox_exporter answers N /probe requests per module
sent by 16 client threads. Reported: wall time, checks per second, and the prober's own CPU
time per check and peak RSS (for journeyprobe the whole `run` process, start-up and config
load included; for blackbox_exporter its process, read from /proc)."""

import concurrent.futures
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CONCURRENCY = 16


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_usage(pid):
    """CPU seconds (user + system) and peak RSS in kB of a live process."""
    stat = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / ticks
    hwm = 0
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return cpu, hwm


def journeyprobe(jp, base, dns, n, workdir):
    lines = ["checks:"]
    for i in range(n):
        lines += [f"  - name: http_{i}", f"    http: {{ url: \"{base}/healthz\" }}"]
        lines += [f"  - name: dns_{i}", "    dns:", "      query: app.fault-lab.test",
                  f"      nameserver: \"{dns}\"", "      expect: { answers_equal: [127.0.0.1] }"]
    probes = pathlib.Path(workdir) / "checks.yaml"
    probes.write_text("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", jp, "run", str(probes), "--format", "json"],
                         capture_output=True, text=True)
    wall = time.perf_counter() - t0
    results = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    failed = sum(r["outcome"] != "success" for r in results)
    user, sys_, rss = out.stderr.strip().splitlines()[-1].split()
    return {"tool": "journeyprobe", "checks": len(results), "failed": failed, "wall_s": wall,
            "cpu_s": float(user) + float(sys_), "max_rss_kb": int(rss)}


def blackbox(base, dns, n, workdir):
    host, port = dns.rsplit(":", 1)
    config = pathlib.Path(workdir) / "blackbox.yml"
    config.write_text(f"""modules:
  http_2xx:
    prober: http
    timeout: 5s
    http: {{ preferred_ip_protocol: ip4 }}
  dns_lab:
    prober: dns
    timeout: 5s
    dns:
      query_name: app.fault-lab.test
      query_type: A
      preferred_ip_protocol: ip4
      transport_protocol: udp
      validate_answer_rrs:
        fail_if_none_matches_regexp: ["127\\\\.0\\\\.0\\\\.1"]
""")
    listen = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(["prometheus-blackbox-exporter", f"--config.file={config}",
                             f"--web.listen-address={listen}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://{listen}/-/healthy", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        urls = []
        for _ in range(n):
            urls.append(f"http://{listen}/probe?module=http_2xx&target={base}/healthz")
            urls.append(f"http://{listen}/probe?module=dns_lab&target={host}:{port}")

        def probe(url):
            body = urllib.request.urlopen(url, timeout=10).read().decode()
            return "probe_success 1" in body

        # The client's own ceiling: the same requests to an endpoint that does no probing.
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(lambda _: urllib.request.urlopen(f"http://{listen}/-/healthy", timeout=10).read(),
                          urls))
        ceiling = len(urls) / (time.perf_counter() - t0)
        cpu0, _ = proc_usage(proc.pid)
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            ok = list(pool.map(probe, urls))
        wall = time.perf_counter() - t0
        cpu1, hwm = proc_usage(proc.pid)
        row = {"tool": "blackbox_exporter", "checks": len(urls), "failed": ok.count(False),
               "wall_s": wall, "cpu_s": cpu1 - cpu0, "max_rss_kb": hwm,
               "client_ceiling": ceiling}
        row["wrk"] = wrk_rates(listen, base, f"{host}:{port}", proc.pid)
        return row
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wrk_rates(listen, base, dns, pid):
    """The exporter at its own limit: Debian's wrk (C, 2 threads, 16 connections) on each
    module for 5 s. None without wrk."""
    if subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True).returncode != 0:
        return None
    rates = {}
    for module, target in (("http_2xx", f"{base}/healthz"), ("dns_lab", dns)):
        cpu0, _ = proc_usage(pid)
        out = subprocess.run(["wrk", "-t2", f"-c{CONCURRENCY}", "-d5s",
                              f"http://{listen}/probe?module={module}&target={target}"],
                             capture_output=True, text=True).stdout
        cpu1, _ = proc_usage(pid)
        total = int(re.search(r"(\d+) requests in", out).group(1))
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        rates[module] = {"per_s": rate, "cpu_ms_per_probe": (cpu1 - cpu0) * 1000 / max(total, 1)}
    return rates


def main():
    jp, base, dns, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with tempfile.TemporaryDirectory() as d:
        rows = [journeyprobe(jp, base, dns, n, d), blackbox(base, dns, n, d)]
    print(f"\nHTTP + DNS checks, {CONCURRENCY} at a time, {n} of each kind")
    print(f"{'tool':<20}{'checks':>8}{'failed':>8}{'checks/s':>10}{'CPU ms/check':>14}{'peak RSS MB':>13}")
    for r in rows:
        print(f"{r['tool']:<20}{r['checks']:>8}{r['failed']:>8}{r['checks'] / r['wall_s']:>10.0f}"
              f"{r['cpu_s'] * 1000 / r['checks']:>14.3f}{r['max_rss_kb'] / 1024:>13.1f}")
    jp_, bb = rows
    # The exporter's CPU is read in clock ticks (10 ms): a smoke run of a few checks can
    # read 0, and then there is no ratio to give.
    cpu_ratio = (f"{(jp_['cpu_s'] / jp_['checks']) / (bb['cpu_s'] / bb['checks']):.2f}x"
                 if bb['cpu_s'] > 0 else "n/a (too few checks to measure the exporter's CPU)")
    print(f"throughput journeyprobe / blackbox_exporter: "
          f"{(jp_['checks'] / jp_['wall_s']) / (bb['checks'] / bb['wall_s']):.2f}x; "
          f"CPU per check: {cpu_ratio}")
    print(f"the client that sends blackbox_exporter its /probe requests manages "
          f"{bb['client_ceiling']:.0f} requests/s to an endpoint that does no probing: "
          "blackbox_exporter's throughput here is at most that.")
    if bb.get("wrk"):
        w = bb["wrk"]
        print("blackbox_exporter at its own limit (wrk, 16 connections, 5 s per module): "
              + ", ".join(f"{m} {v['per_s']:.0f}/s at {v['cpu_ms_per_probe']:.3f} ms CPU per probe"
                          for m, v in w.items()))
    print("blackbox_exporter's CPU excludes that client; journeyprobe's includes its start-up "
          "and config load.")
    if any(r["failed"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
