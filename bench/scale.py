"""Scale figures: config load time, the prober's steady RSS, and scheduler start lateness,
with generated probe files pointed at loopback.

  python3 bench/scale.py JOURNEYPROBE BASE_URL [SECONDS]

- 100 journeys + 1,000 checks: `validate` time (median of 5) and serve's RSS after SECONDS.
- 1,000 journeys + 10,000 checks, every 30s (jittered over it): `validate` time, and serve's
  start lateness p50/p99 over SECONDS. Journeys use a WebDriver URL where nothing listens,
  so every journey run is an immediate prober error: this measures the scheduler, not
  browsers. Checks hit BASE_URL/healthz.
Lateness percentiles come from journeyprobe_start_lateness_seconds (bucket bounds: the
figure is "at most this bucket's upper bound")."""

import json
import pathlib
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def generate(folder, journeys, checks, base):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(journeys):
        (folder / f"j{i}.yaml").write_text(
            f"name: j{i}\nevery: 30s\ntimeout: 10s\nsteps:\n  - goto: {base}/login\n"
            "  - assert_title: Sign in\n")
    lines = ["checks:"]
    for i in range(checks):
        lines += [f"  - name: c{i}", "    every: 30s", f"    http: {{ url: \"{base}/healthz\" }}"]
    (folder / "checks.yaml").write_text("\n".join(lines) + "\n")


def load_time(jp, folder):
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([jp, "validate", str(folder)], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def serve_for(jp, folder, seconds, data):
    port, dead = free_port(), free_port()
    proc = subprocess.Popen([jp, "serve", str(folder), "--listen", f"127.0.0.1:{port}",
                             "--data-dir", data, "--webdriver", f"http://127.0.0.1:{dead}",
                             "--no-artifacts"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(seconds)
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return text


def metric(text, name, labels=""):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and labels in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def lateness(text, q):
    buckets = {}
    for line in text.splitlines():
        m = re.match(r'journeyprobe_start_lateness_seconds_bucket\{kind="[^"]+",le="([^"]+)"\} (\S+)', line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            buckets[le] = buckets.get(le, 0) + float(m.group(2))
    count = buckets.get(float("inf"), 0)
    for le in sorted(buckets):
        if buckets[le] >= q * count:
            return le, int(count)
    return float("nan"), int(count)


def main():
    jp, base = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    with tempfile.TemporaryDirectory() as d:
        small, big = pathlib.Path(d) / "small", pathlib.Path(d) / "big"
        generate(small, 100, 1000, base)
        generate(big, 1000, 10000, base)
        small_load, big_load = load_time(jp, small), load_time(jp, big)
        text = serve_for(jp, small, seconds, str(pathlib.Path(d) / "data-small"))
        rss = metric(text, "process_resident_memory_bytes") / 2**20
        text = serve_for(jp, big, seconds, str(pathlib.Path(d) / "data-big"))
        p50, n = lateness(text, 0.50)
        p99, _ = lateness(text, 0.99)
        skipped = metric(text, "journeyprobe_runs_skipped_total")
        big_rss = metric(text, "process_resident_memory_bytes") / 2**20
    print(f"\nscale ({seconds}s of serve each)")
    print(f"100 journeys + 1,000 checks:    config load {small_load * 1000:.0f} ms, steady RSS {rss:.1f} MB")
    print(f"1,000 journeys + 10,000 checks: config load {big_load * 1000:.0f} ms, RSS {big_rss:.1f} MB, "
          f"{n} runs started, start lateness p50 <= {p50 * 1000:.0f} ms, p99 <= {p99 * 1000:.0f} ms, "
          f"{skipped:.0f} skipped")
    print("config load: the whole `validate` process (start-up included), median of 5.")


if __name__ == "__main__":
    main()
