"""Browser memory under serve: is it bounded by browser_slots, whatever the journey count?

  python3 bench/browsers.py JOURNEYPROBE BASE_URL [SECONDS] [SLOTS] [JOURNEYS...]

For each journey count (default 4 and 16) it runs `journeyprobe serve` for SECONDS
(default 60) with that many copies of the login journey (every 10s, spread over it by the
scheduler) on SLOTS browser slots (default 2), and samples every 0.5 s the memory of every
process below serve: chromedriver and each Chromium with all its helper processes. Memory
is the proportional set size (PSS: pages shared between processes are split among them, so
the sum does not count them twice). It prints the peak, the bound (SLOTS x 500 MB), the
peak per browser, the runs and how they got their session, from serve's /metrics. A figure,
not a test: it exits 0 whatever the peak.
BASE_URL is a running `journeyprobe fault-lab` whose password is bench-password."""

import pathlib
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

from checks import free_port
from scale import metric

LOGIN = """name: {name}
every: 10s
timeout: 8s
vars: {{ base: "{base}" }}
secrets: {{ password: "${{env:LOGIN_PASSWORD}}" }}
steps:
  - goto: ${{base}}/login
  - fill: {{ selector: "#username", value: "bench@example.com" }}
  - fill: {{ selector: "#password", value: "${{password}}" }}
  - click: "button[type=submit]"
  - wait_for: {{ url_matches: "/dashboard$" }}
  - assert_text: {{ selector: "#welcome", contains: "Welcome" }}
"""


def children():
    """PID -> parent PID of every process."""
    out = {}
    for d in pathlib.Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                out[int(d.name)] = int(stat[stat.rfind(")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    return out


def pss_kb(pid):
    try:
        for line in pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def is_browser(pid):
    try:
        cmd = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmd) and cmd[0].endswith(b"chromium") and not any(
        a.startswith(b"--type=") for a in cmd)


def sample(root):
    """(PSS of everything below root in KB, {browser pid: PSS of its tree in KB})."""
    parents = children()
    kids = {}
    for pid, ppid in parents.items():
        kids.setdefault(ppid, []).append(pid)

    def tree(pid):
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo += kids.get(p, [])
        return out

    below = [p for p in tree(root) if p != root]
    total = sum(pss_kb(p) for p in below)
    browsers = {p: sum(pss_kb(q) for q in tree(p)) for p in below if is_browser(p)}
    return total, browsers


def run(jp, base, seconds, slots, journeys):
    with tempfile.TemporaryDirectory() as tmp:
        probes = pathlib.Path(tmp) / "probes"
        probes.mkdir()
        for i in range(journeys):
            (probes / f"login{i}.yaml").write_text(LOGIN.format(name=f"login{i}", base=base))
        port = free_port()
        env = {"LOGIN_PASSWORD": "bench-password", "PATH": "/usr/bin:/bin"}
        proc = subprocess.Popen(
            [jp, "serve", str(probes), "--listen", f"127.0.0.1:{port}", "--data-dir",
             f"{tmp}/data", "--browser-slots", str(slots), "--no-artifacts"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        peak, peak_browser, most = 0, 0, 0
        try:
            end = time.time() + seconds
            while time.time() < end:
                total, browsers = sample(proc.pid)
                peak = max(peak, total)
                peak_browser = max([peak_browser] + list(browsers.values()))
                most = max(most, len(browsers))
                time.sleep(0.5)
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    runs = metric(text, "journeyprobe_runs_total")
    ok = metric(text, "journeyprobe_runs_total", 'outcome="success"')
    skipped = metric(text, "journeyprobe_runs_skipped_total")
    warm = metric(text, "journeyprobe_pool_checkouts_total", 'session="warm"')
    new = metric(text, "journeyprobe_pool_checkouts_total", 'session="new"')
    recycled = metric(text, "journeyprobe_pool_recycled_total")
    reasons = re.findall(r'journeyprobe_pool_recycled_total\{reason="(\w+)"\} (\d+)', text)
    why = ", ".join(f"{r} {n}" for r, n in reasons if n != "0")
    bound = slots * 500
    print(f"{journeys:>8}{slots:>6}{peak / 1024:>12.0f}{bound:>10}{most:>10}"
          f"{peak_browser / 1024:>14.0f}{runs:>7.0f}{ok:>6.0f}{skipped:>8.0f}"
          f"{warm:>7.0f}{new:>6.0f}{recycled:>9.0f}  {why}")
    return peak / 1024 <= bound


def main():
    jp, base = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    slots = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    counts = [int(c) for c in sys.argv[5:]] or [4, 16]
    print(f"serve for {seconds} s per row; memory is PSS of chromedriver and every browser")
    print(f"{'journeys':>8}{'slots':>6}{'peak MB':>12}{'bound MB':>10}{'browsers':>10}"
          f"{'MB/browser':>14}{'runs':>7}{'ok':>6}{'skipped':>8}{'warm':>7}{'new':>6}"
          f"{'recycled':>9}")
    within = [run(jp, base, seconds, slots, n) for n in counts]
    print("peak: the most memory at once of everything serve started (chromedriver and "
          "browsers); bound: slots x 500 MB.")
    print("every peak within its bound" if all(within) else "a peak above its bound")


if __name__ == "__main__":
    main()
