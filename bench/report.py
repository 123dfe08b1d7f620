"""Print the benchmark's table from the result files bench/run wrote into a folder."""

import json
import math
import pathlib
import sys


def percentile(values, p):
    s = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(s)))
    return s[rank - 1]


def journeyprobe(path, tool):
    durations, cpu, rss, failures, overhead = [], None, None, 0, []
    for line in path.read_text().splitlines():
        v = json.loads(line)
        if v.get("kind") == "journey":
            durations.append(v["duration_ms"])
            failures += v["outcome"] != "success"
            overhead += [s["overhead_ms"] for s in v["steps"] if "overhead_ms" in s]
        elif "prober_usage" in v:
            cpu, rss = v["prober_usage"]["cpu_ms"], v["prober_usage"]["max_rss_kb"]
    return {"tool": tool, "durations_ms": durations, "failures": failures,
            "cpu_ms": cpu, "max_rss_kb": rss, "overhead_ms": overhead}


def main(folder):
    d = pathlib.Path(folder)
    rows = [journeyprobe(d / "journeyprobe.jsonl", "journeyprobe (pool)"),
            journeyprobe(d / "journeyprobe-nopool.jsonl", "journeyprobe (no pool)")]
    for name in ("playwright", "selenium"):
        rows.append(json.loads((d / f"{name}.json").read_text()))
    base = percentile(rows[0]["durations_ms"], 50)
    print(f"{'tool':<24}{'runs':>6}{'failed':>8}{'median ms':>11}{'p95 ms':>9}"
          f"{'jp/tool':>9}{'CPU ms/run':>12}{'peak RSS MB':>13}")
    for r in rows:
        ds = r["durations_ms"]
        med = percentile(ds, 50)
        cpu = r["cpu_ms"] / len(ds) if r["cpu_ms"] is not None and ds else float("nan")
        rss = r["max_rss_kb"] / 1024 if r["max_rss_kb"] is not None else float("nan")
        print(f"{r['tool']:<24}{len(ds):>6}{r['failures']:>8}{med:>11.0f}"
              f"{percentile(ds, 95):>9.0f}{base / med:>9.2f}{cpu:>12.1f}{rss:>13.1f}")
    ov = rows[0]["overhead_ms"]
    if ov:
        print(f"\njourneyprobe's own time per step (outside WebDriver round trips and auto-wait "
              f"pauses), {len(ov)} steps: median {percentile(ov, 50):.1f} ms, "
              f"p95 {percentile(ov, 95):.1f} ms, max {max(ov):.1f} ms")
    print("\njp/tool: journeyprobe's median (pool on) over the tool's (below 1: journeyprobe is "
          "faster).")
    print("CPU and RSS: the prober process itself; browsers and chromedriver are excluded.")
    if any(r["failures"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1])
