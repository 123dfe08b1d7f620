"""Soak: `journeyprobe serve` under a steady load for minutes, measured.

  python3 bench/soak.py JOURNEYPROBE [BASE_URL] [--seconds 600] [--journeys 50]
                        [--checks 500] [--slots 2] [--every 20] [--check-every 30]

Without BASE_URL it starts `JOURNEYPROBE fault-lab --no-backends` on a free loopback port.
JOURNEYS copies of the sign-in-page journey (goto /login, assert_title "Sign in", every
EVERY seconds, timeout 10s) and CHECKS http checks of /healthz (every CHECK_EVERY seconds)
run under one `serve` on SLOTS browser slots for SECONDS. serve gets a TMPDIR of its own,
so every browser and driver it starts mentions it (profile folders on the command line, the
variable in the environment).

Every 30 s it samples: serve's RSS, the PSS (proportional set size: shared pages split
among their users, so the sum counts them once) of every process below serve or
mentioning its TMPDIR (chromedriver, each Chromium and its helpers), how many such processes
there are and how many are browsers, the runs so far and the p99 start lateness since the
last sample, and the machine: load average, CPU used outside this soak (cores, from
/proc/stat less this soak's processes) and CPU wait (PSI "some": the share of time a
runnable task waited for a CPU). Other load distorts the figures: say so when it is there.
At the end: start lateness p50/p99 (from journeyprobe_start_lateness_seconds: the bucket's
upper bound), runs skipped (no_slot, overrun), the offered load against an estimate of the
capacity (slots / (mean journey run + mean session reset)), then SIGTERM, the time to exit,
the exit code, and the processes still mentioning the TMPDIR once serve is gone (should be
0; any found are listed and then killed). A measurement, not a test: it exits 0 whatever
the figures, 1 only when the harness itself fails. The last line is the figures as JSON.
`--seconds 60` is a quick smoke."""

import argparse
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from browsers import is_browser, pss_kb
from checks import free_port
from scale import metric

JOURNEY = """name: {name}
every: {every}s
timeout: 10s
steps:
  - goto: {base}/login
  - assert_title: Sign in
"""
PASSWORD = "bench-password"


def proc_ids():
    return [int(d.name) for d in pathlib.Path("/proc").iterdir() if d.name.isdigit()]


def stat_of(pid):
    """(state, parent pid, CPU ticks of the process and its reaped children) or None."""
    try:
        s = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = s[s.rfind(")") + 2:].split()
    return f[0], int(f[1]), sum(int(x) for x in f[11:15])


def mentions(pid, needle):
    for what in ("cmdline", "environ"):
        try:
            if needle in pathlib.Path(f"/proc/{pid}/{what}").read_bytes():
                return True
        except OSError:
            pass
    return False


def rss_kb(pid):
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def is_reaper(pid):
    try:
        return b"__reap-browsers" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def ours(serve, needle):
    """Live, non-zombie processes serve started, below it or mentioning its TMPDIR: its
    drivers and browsers (its reaper, a small journeyprobe process, left out)."""
    stats = {p: s for p in proc_ids() if (s := stat_of(p)) and s[0] != "Z"}
    kids = {}
    for p, s in stats.items():
        kids.setdefault(s[1], []).append(p)
    roots = [p for p in stats if p != serve and mentions(p, needle)]
    if serve in stats:
        roots.append(serve)
    found, todo = set(), roots
    while todo:
        p = todo.pop()
        if p not in found:
            found.add(p)
            todo += kids.get(p, [])
    found.discard(serve)
    return {p for p in found if not is_reaper(p)}, stats


def tree_ticks(roots, stats):
    """CPU ticks ever used by the trees below roots (live processes and those they reaped)."""
    kids = {}
    for p, s in stats.items():
        kids.setdefault(s[1], []).append(p)
    seen, todo, total = set(), list(roots), 0
    while todo:
        p = todo.pop()
        if p in seen or p not in stats:
            continue
        seen.add(p)
        total += stats[p][2]
        todo += kids.get(p, [])
    return total


def machine_busy_ticks():
    f = [int(x) for x in pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = f[3] + f[4]
    return sum(f[:8]) - idle


def cpu_pressure():
    """Share of the last 10 s in which some runnable task waited for a CPU (PSI), or None."""
    try:
        line = pathlib.Path("/proc/pressure/cpu").read_text().split("\n", 1)[0]
        return float(line.split("avg10=")[1].split()[0]) / 100
    except (OSError, IndexError, ValueError):
        return None


def pct(x):
    return "-" if x is None else f"{x:.0%}"


def scrape(port):
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()


def histogram_mean(text, name, labels):
    return (metric(text, f"{name}_sum", labels) / max(metric(text, f"{name}_count", labels), 1))


def lateness_of(text, kind, since=None):
    """Lateness of journeys (kind "journey") or of checks (any other kind): runs, p50 and
    p99 (bucket upper bounds), over the whole run or since an earlier scrape."""
    now, before = buckets(text, kind), buckets(since, kind) if since else {}
    out = {"runs": int(now.get(float("inf"), 0) - before.get(float("inf"), 0)),
           "p50_le_s": quantile(now, before, 0.50), "p99_le_s": quantile(now, before, 0.99)}
    if not since:
        total = sum(float(m.group(2)) for m in re.finditer(
            r'journeyprobe_start_lateness_seconds_sum\{kind="([^"]+)"\} (\S+)', text)
            if (m.group(1) == "journey") == (kind == "journey"))
        out["mean_s"] = round(total / max(out["runs"], 1), 4)
    return out


def buckets(text, kind):
    """{upper bound: cumulative count} of the start lateness histogram for one kind."""
    out = {}
    for m in re.finditer(r'journeyprobe_start_lateness_seconds_bucket\{kind="([^"]+)",le="([^"]+)"\} (\S+)',
                         text):
        if (m.group(1) == "journey") == (kind == "journey"):
            le = float("inf") if m.group(2) == "+Inf" else float(m.group(2))
            out[le] = out.get(le, 0) + float(m.group(3))
    return out


def quantile(now, before, q):
    """The upper bound of the bucket holding quantile q of the runs between two scrapes."""
    d = {le: n - before.get(le, 0) for le, n in now.items()}
    count = d.get(float("inf"), 0)
    if not count:
        return None
    for le in sorted(d):
        if d[le] >= q * count:
            return le
    return None


def wait_for(url, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1)
            return True
        except OSError:
            time.sleep(0.2)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("journeyprobe")
    ap.add_argument("base_url", nargs="?")
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--journeys", type=int, default=50)
    ap.add_argument("--checks", type=int, default=500)
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--every", type=int, default=20, help="journey interval, s")
    ap.add_argument("--check-every", type=int, default=30, help="check interval, s")
    ap.add_argument("--sample", type=int, default=30, help="seconds between samples")
    a = ap.parse_args()
    ms = lambda s: f"{s * 1000:.0f} ms"
    jp = str(pathlib.Path(a.journeyprobe).resolve())
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    cores = os.cpu_count()

    with tempfile.TemporaryDirectory(prefix="jp-soak-") as scratch:
        scratch = pathlib.Path(scratch)
        probes, tmp = scratch / "probes", scratch / "serve-tmp"
        probes.mkdir()
        tmp.mkdir()
        needle = str(tmp).encode()
        lab = None
        base = a.base_url
        if not base:
            lab_port = free_port()
            lab = subprocess.Popen([jp, "fault-lab", "--listen", f"127.0.0.1:{lab_port}",
                                    "--no-backends", "--password", PASSWORD],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            base = f"http://127.0.0.1:{lab_port}"
            if not wait_for(f"{base}/healthz", 30):
                lab.kill()
                sys.exit("error: the fault lab did not answer within 30 s")
        for i in range(a.journeys):
            (probes / f"j{i}.yaml").write_text(
                JOURNEY.format(name=f"j{i}", every=a.every, base=base))
        lines = ["checks:"]
        for i in range(a.checks):
            lines += [f"  - name: c{i}", f"    every: {a.check_every}s",
                      f"    http: {{ url: \"{base}/healthz\" }}"]
        (probes / "checks.yaml").write_text("\n".join(lines) + "\n")

        offered = a.journeys / a.every
        print(f"soak: {a.journeys} journeys every {a.every}s ({offered:.2f} runs/s offered) and "
              f"{a.checks} checks every {a.check_every}s ({a.checks / a.check_every:.1f}/s) on "
              f"{a.slots} browser slots, {a.seconds}s, against {base}", file=sys.stderr)
        port = free_port()
        env = dict(os.environ, TMPDIR=str(tmp))
        log = open(scratch / "serve.log", "wb")
        started = time.time()
        serve = subprocess.Popen(
            [jp, "serve", str(probes), "--listen", f"127.0.0.1:{port}", "--data-dir",
             str(scratch / "data"), "--browser-slots", str(a.slots)],
            stdout=log, stderr=log, env=env)
        samples, peak = [], {"pss_mb": 0.0, "procs": 0, "browsers": 0}
        result = {}
        try:
            if not wait_for(f"http://127.0.0.1:{port}/readyz", 60):
                sys.exit("error: serve was not ready within 60 s")
            t0 = time.time()
            print(f"serve ready after {t0 - started:.1f}s", file=sys.stderr)
            other0, prev_text, first_text = None, "", None
            print(f"{'t s':>5}{'serve RSS MB':>14}{'browsers PSS MB':>17}{'procs':>7}"
                  f"{'browsers':>10}{'runs':>7}{'skipped':>9}{'late p99':>10}{'load1':>7}{'other CPU':>11}"
                  f"{'CPU wait':>10}",
                  file=sys.stderr)
            next_sample, end = t0, t0 + a.seconds
            while True:
                now = time.time()
                found, stats = ours(serve.pid, needle)
                pss = sum(pss_kb(p) for p in found) / 1024
                browsers = sum(is_browser(p) for p in found)
                peak = {"pss_mb": max(peak["pss_mb"], pss), "procs": max(peak["procs"], len(found)),
                        "browsers": max(peak["browsers"], browsers)}
                if now >= next_sample or now >= end:
                    text = scrape(port)
                    mine = tree_ticks([serve.pid, os.getpid()] + ([lab.pid] if lab else []) +
                                      [p for p in found if stats[p][1] not in found], stats)
                    busy = machine_busy_ticks()
                    other = None
                    if other0 is not None:
                        dt = (now - other0[2]) * ticks_per_s
                        other = max(0.0, ((busy - other0[0]) - (mine - other0[1])) / dt)
                    other0 = (busy, mine, now)
                    s = {"t": round(now - t0), "serve_rss_mb": round(rss_kb(serve.pid) / 1024, 1),
                         "browsers_pss_mb": round(pss, 1), "procs": len(found),
                         "browsers": browsers,
                         "runs": metric(text, "journeyprobe_runs_total", 'kind="journey"'),
                         "skipped": metric(text, "journeyprobe_runs_skipped_total"),
                         "late_p99_le_s": quantile(buckets(text, "journey"),
                                                   buckets(prev_text, "journey"), 0.99),
                         "load1": round(os.getloadavg()[0], 2),
                         "cpu_wait": cpu_pressure(),
                         "other_cpu_cores": None if other is None else round(other, 2)}
                    samples.append(s)
                    prev_text = text
                    if first_text is None and s["t"] > 0:
                        first_text = text
                    print(f"{s['t']:>5}{s['serve_rss_mb']:>14.1f}{s['browsers_pss_mb']:>17.0f}"
                          f"{s['procs']:>7}{s['browsers']:>10}{s['runs']:>7.0f}{s['skipped']:>9.0f}"
                          f"{'-' if s['late_p99_le_s'] is None else ms(s['late_p99_le_s']):>10}"
                          f"{s['load1']:>7.2f}"
                          f"{'' if other is None else f'{other:.2f} cores':>11}"
                          f"{pct(s['cpu_wait']):>10}", file=sys.stderr)
                    next_sample += a.sample
                    if now >= end:
                        break
                if serve.poll() is not None:
                    sys.exit(f"error: serve exited early with {serve.returncode}")
                time.sleep(max(0.0, min(5.0, next_sample - time.time(), end - time.time())))
            elapsed = time.time() - t0
            text = scrape(port)
            t_sig = time.time()
            serve.send_signal(signal.SIGTERM)
            code = serve.wait(timeout=120)
            exit_s = time.time() - t_sig
            left = [p for p in proc_ids() if (s := stat_of(p)) and s[0] != "Z" and mentions(p, needle)]
            listing = []
            for p in left:
                try:
                    listing.append(pathlib.Path(f"/proc/{p}/cmdline").read_bytes()
                                   .replace(b"\0", b" ").decode(errors="replace")[:160])
                except OSError:
                    pass
            left_browsers = len([p for p in left if not is_reaper(p)])
            # serve's reaper ends a moment after serve by design; anything else is a leak.
            gone_s = None
            while time.time() - t_sig - exit_s < 10:
                live = [p for p in left if (s := stat_of(p)) and s[0] != "Z"]
                if not live:
                    gone_s = round(time.time() - t_sig - exit_s, 2)
                    break
                time.sleep(0.05)
            left_10s = [p for p in left if (s := stat_of(p)) and s[0] != "Z"]
            for p in left_10s:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()
            if lab:
                lab.terminate()
                lab.wait(timeout=30)
            log.close()

        j_runs = metric(text, "journeyprobe_runs_total", 'kind="journey"')
        j_ok = metric(text, "journeyprobe_runs_total", 'kind="journey",outcome="success"')
        c_runs = metric(text, "journeyprobe_runs_total") - j_runs
        c_ok = metric(text, "journeyprobe_runs_total", 'outcome="success"') - j_ok
        no_slot = metric(text, "journeyprobe_runs_skipped_total", 'reason="no_slot"')
        overrun = metric(text, "journeyprobe_runs_skipped_total", 'reason="overrun"')
        run_mean = histogram_mean(text, "journeyprobe_run_duration_seconds", 'kind="journey"')
        reset_mean = histogram_mean(text, "journeyprobe_pool_reset_duration_seconds", "")
        capacity = a.slots / (run_mean + reset_mean) if run_mean + reset_mean else float("inf")
        recycled = re.findall(r'journeyprobe_pool_recycled_total\{reason="(\w+)"\} (\d+)', text)
        rss = [s["serve_rss_mb"] for s in samples]
        others = [s["other_cpu_cores"] for s in samples if s["other_cpu_cores"] is not None]
        result = {
            "seconds": round(elapsed), "journeys": a.journeys, "every_s": a.every,
            "checks": a.checks, "check_every_s": a.check_every, "slots": a.slots,
            "offered_journey_runs_per_s": round(offered, 3),
            "served_journey_runs_per_s": round(j_runs / elapsed, 3),
            "mean_journey_run_s": round(run_mean, 3), "mean_reset_s": round(reset_mean, 3),
            "capacity_runs_per_s_est": round(capacity, 2),
            "journey_runs": j_runs, "journey_ok": j_ok, "check_runs": c_runs, "check_ok": c_ok,
            "skipped_no_slot": no_slot, "skipped_overrun": overrun,
            "recycled": {r: int(n) for r, n in recycled if n != "0"},
            "lateness_journey": lateness_of(text, "journey"),
            "lateness_journey_after_first_sample": lateness_of(text, "journey", first_text),
            "lateness_check": lateness_of(text, "check"),
            "serve_rss_mb": {"start": rss[0], "end": rss[-1], "max": max(rss)},
            "browsers_pss_mb_peak": round(peak["pss_mb"], 1), "procs_peak": peak["procs"],
            "browsers_peak": peak["browsers"],
            "samples": samples,
            "other_cpu_cores_mean": round(sum(others) / len(others), 2) if others else None,
            "sigterm_exit_code": code, "sigterm_exit_s": round(exit_s, 2),
            "left_after_exit": len(left), "left_after_exit_not_reaper": left_browsers,
            "all_gone_s_after_exit": gone_s, "left_after_10s": len(left_10s), "left": listing,
        }

    lj, lc = result["lateness_journey"], result["lateness_check"]
    ls = result["lateness_journey_after_first_sample"]
    ms = lambda s: "-" if s is None else f"{s * 1000:.0f} ms"
    print(f"\nsoak: {elapsed:.0f} s of serve, {a.journeys} journeys every {a.every}s + "
          f"{a.checks} checks every {a.check_every}s, {a.slots} browser slots")
    print(f"offered {offered:.2f} journey runs/s; served {j_runs / elapsed:.2f}/s "
          f"({j_runs:.0f} runs, {j_ok:.0f} ok); capacity ~{capacity:.1f}/s "
          f"(slots / (mean run {ms(run_mean)} + mean reset {ms(reset_mean)})), so the "
          f"offered load is {offered / capacity:.0%} of it")
    print(f"checks: {c_runs:.0f} runs, {c_ok:.0f} ok")
    print(f"start lateness, journeys: p50 <= {ms(lj['p50_le_s'])}, p99 <= {ms(lj['p99_le_s'])}, "
          f"mean {ms(lj['mean_s'])} ({lj['runs']} runs)")
    print(f"  after the first {a.sample} s (browsers warm): p50 <= {ms(ls['p50_le_s'])}, "
          f"p99 <= {ms(ls['p99_le_s'])} ({ls['runs']} runs)")
    print(f"start lateness, checks:   p50 <= {ms(lc['p50_le_s'])}, p99 <= {ms(lc['p99_le_s'])}, "
          f"mean {ms(lc['mean_s'])} ({lc['runs']} runs)")
    print(f"skipped: {no_slot:.0f} no_slot, {overrun:.0f} overrun; sessions replaced: "
          + (", ".join(f"{r} {n}" for r, n in result["recycled"].items()) or "none"))
    print(f"serve RSS: start {rss[0]:.1f} MB, end {rss[-1]:.1f} MB, max {max(rss):.1f} MB")
    print("browsers PSS (MB) every sample: " + ", ".join(
        f"{s['t']}s {s['browsers_pss_mb']:.0f}" for s in samples)
          + f"; peak {peak['pss_mb']:.0f} MB, {peak['procs']} processes, {peak['browsers']} browsers")
    print(f"machine: {cores} cores, CPU outside this soak mean "
          f"{result['other_cpu_cores_mean']} cores, load1 "
          + ", ".join(f"{s['load1']:.1f}" for s in samples)
          + "; CPU wait (PSI some, 10 s) " + ", ".join(pct(s["cpu_wait"]) for s in samples))
    print(f"SIGTERM: exit {code} after {exit_s:.2f} s; processes mentioning serve's TMPDIR "
          f"when it had exited: {len(left)}, of them drivers or browsers: {left_browsers}"
          + (f"; all gone {gone_s} s later" if left and gone_s is not None else "")
          + (f"; {len(left_10s)} still there after 10 s (killed)" if left_10s else "")
          + (": " + "; ".join(listing) if left else ""))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
