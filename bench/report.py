#!/usr/bin/env python3
"""Prints the side-by-side table of a bench/run.sh output directory (markdown, stdlib only);
with --rounds DIR, the table of a bench/rounds.sh directory (every round's ratios and their median).

Metagrad figures are JMH SampleTime medians (p50 over all samples of all forks); peers are the
medians that gemm_numpy.py and torch_workloads.py print. Ratio = Metagrad time / peer time
(below 1: Metagrad faster). Memory: peak RSS growth in a fresh process for both.
"""
import glob
import json
import os
import statistics
import sys


def load_jmh(d):
    res = {}
    for f in glob.glob(os.path.join(d, "jmh-*.json")):
        try:
            data = json.load(open(f))
        except ValueError:
            continue
        for r in data:
            name = r["benchmark"].split(".")[-2] + "." + r["benchmark"].split(".")[-1]
            params = tuple(sorted((r.get("params") or {}).items()))
            pm = r["primaryMetric"]
            p50 = pm.get("scorePercentiles", {}).get("50.0", pm["score"])
            res[(name, params)] = (p50, pm["scoreUnit"], r.get("forks"))
    return res


def to_ms(v, unit):
    return v * {"ms/op": 1.0, "us/op": 1e-3, "ns/op": 1e-6, "s/op": 1e3}[unit]


def load_lines(path):
    out = []
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def load_run(d):
    """The JMH medians and peer lines of one run directory: (get, torch, numpy, mem, jmh)."""
    jmh = load_jmh(d)
    peers = load_lines(os.path.join(d, "peers.jsonl"))
    mem = load_lines(os.path.join(d, "memory.jsonl"))
    torch = {p["bench"]: p for p in peers if p.get("impl") == "pytorch-cpu"}
    numpy = {(p["n"], p["threads"]): p for p in peers if p.get("bench") == "sgemm"}

    def get(name, **params):
        key = (name, tuple(sorted((k, str(v)) for k, v in params.items())))
        if key not in jmh:
            return None
        v, unit, _ = jmh[key]
        return to_ms(v, unit)

    return get, torch, numpy, mem, jmh


def sgemm_rows(get, numpy):
    """(n, threads, Metagrad ms, numpy ms or None) for every size the run has."""
    for t in (1, 2):
        for n in (64, 128, 256, 512, 1024, 2048):
            m = get("GemmBench.gemm", n=n, threads=t, backend="cpu-vector")
            if m is not None:
                p = numpy.get((n, t))
                yield n, t, m, (p["median_s"] * 1e3 if p else None)


def workload_rows(get, torch):
    """(label, Metagrad ms, PyTorch ms or None) of workloads (a)-(c); (d) in us per op."""
    rows = [
        ("(a) conv4 fwd+bwd, batch 100", get("WorkloadBench.conv4ForwardBackward"), "conv4_fwd_bwd"),
    ]
    # (b) under both schedules: the tasks side by side as MetaTrainer runs them (the target's row), and
    # one graph over all tasks with each kernel split over the threads, as the PyTorch script runs it.
    for label, variant, tk in (("(b) MAML 2nd order, 1 step", "second-1", "maml2_1step"),
                               ("(b) MAML 1st order, 1 step", "first-1", "maml1_1step"),
                               ("(b) MAML 2nd order, 5 steps", "second-5", "maml2_5step")):
        # PyTorch's script (one graph) and its tasks-in-threads counterpart (torch_workloads.py *_tasks).
        for schedule, peer, note in (("tasks", tk, "Metagrad tasks side by side / PyTorch one graph"),
                                     ("tasks", tk + "_tasks", "both tasks side by side"),
                                     ("graph", tk, "both one graph, kernels split")):
            m = get("WorkloadBench.mamlMetaStep", variant=variant, schedule=schedule)
            if m is None and schedule == "graph":  # runs before 3 Dec had one schedule, this one
                m = get("WorkloadBench.mamlMetaStep", variant=variant)
            if m is not None and (peer == tk or peer in torch):
                rows.append((f"{label} ({note})", m, peer))
    rows += [
        ("(c) ProtoNet 60w5s5q", get("WorkloadBench.protoNetEpisode"), "protonet_60w5s"),
    ]
    for label, m, tk in rows:
        p = torch.get(tk)
        yield label, m, (p["median_ms"] if p else None)
    fwd = get("OpOverheadBench.forwardPerOp")
    fb = get("OpOverheadBench.forwardBackwardPerOp")
    ac = torch.get("add_chain")
    if fwd is not None and fb is not None:
        yield "(d) per-op forward (us)", fwd * 1e3, (ac["fwd_per_op_us"] if ac else None)
        yield "(d) per-op backward (us)", (fb - fwd) * 1e3, (ac["bwd_per_op_us"] if ac else None)


def verdict(ratio, limit=1.0):
    """pass / miss by N% for a time ratio against its largest allowed value; "-" without a ratio or a limit."""
    if ratio is None or limit is None:
        return "-"
    return "pass" if ratio <= limit else f"miss by {100 * (ratio / limit - 1):.0f}%"


def main():
    if sys.argv[1] == "--rounds":
        return rounds(sys.argv[2])
    d = sys.argv[1]
    get, torch, numpy, mem, jmh = load_run(d)

    print(f"# Side-by-side results ({os.path.basename(os.path.normpath(d))})\n")
    print("## SGEMM float32, n x n (Metagrad cpu-vector vs numpy/OpenBLAS)\n")
    print("| n | threads | Metagrad ms | GFLOP/s | numpy ms | GFLOP/s | ratio (time) | speed vs OpenBLAS |")
    print("|---|---|---|---|---|---|---|---|")
    for n, t, m, pm in sgemm_rows(get, numpy):
        gf = 2 * n ** 3 / (m / 1e3) / 1e9
        if pm:
            pgf = 2 * n ** 3 / (pm / 1e3) / 1e9
            print(f"| {n} | {t} | {m:.3f} | {gf:.1f} | {pm:.3f} | {pgf:.1f} | {m / pm:.2f} | {pm / m:.2f}x |")
        else:
            print(f"| {n} | {t} | {m:.3f} | {gf:.1f} | - | - | - | - |")

    print("\n## Workloads, 2 threads (Metagrad cpu-vector vs PyTorch CPU)\n")
    print("| workload | Metagrad median ms | PyTorch median ms | ratio | target | result |")
    print("|---|---|---|---|---|---|")
    for label, m, pm in workload_rows(get, torch):
        ratio = m / pm if (m and pm) else None
        digits = 3 if label.startswith("(d)") else 1
        ms = f"{m:.{digits}f}" if m else "-"
        pms = f"{pm:.{digits}f}" if pm else "-"
        rs = f"{ratio:.2f}" if ratio else "-"
        print(f"| {label} | {ms} | {pms} | {rs} | <= 1.0 | {verdict(ratio)} |")

    print("\n## Peak memory, fresh process per workload (MiB)\n")
    print("| workload | Metagrad peak RSS growth | Metagrad -Xmx | smallest -Xmx that completes | "
          "Metagrad RSS growth / median ms at that -Xmx | PyTorch peak RSS growth (its workload) |")
    print("|---|---|---|---|---|---|")
    # Metagrad's maml rows without _graph run the tasks schedule: their peer is PyTorch's *_tasks
    # workload when the run has it (runs before 3 Dec: the one-graph workload).
    names = {"conv4": "conv4_fwd_bwd", "maml2_1step": "maml2_1step_tasks", "maml2_1step_graph": "maml2_1step",
             "maml1_1step": "maml1_1step_tasks", "maml2_5step": "maml2_5step_tasks",
             "maml2_5step_graph": "maml2_5step", "maml1_5step": "maml1_5step", "protonet": "protonet_60w5s"}
    for w, tk in names.items():
        if tk not in torch and tk.endswith("_tasks"):
            tk = tk[: -len("_tasks")]
        runs = [m for m in mem if m.get("workload") == w and "peak_rss_delta_mib" in m and "at_min_heap" not in m]
        mins = [m["min_heap"] for m in mem if m.get("workload") == w and "min_heap" in m]
        at = [m for m in mem if m.get("workload") == w and "at_min_heap" in m]
        p = torch.get(tk)
        r = runs[0] if runs else {}
        at_s = f"{at[0]['peak_rss_delta_mib']} / {at[0]['median_ms']:.0f}" if at else "-"
        peer_s = f"{p['peak_rss_delta_mib']} ({tk})" if p else "-"
        print(f"| {w} | {r.get('peak_rss_delta_mib', '-')} | {r.get('max_heap_mib', '-')} | "
              f"{mins[0] if mins else '-'} | {at_s} | {peer_s} |")

    fused = {}
    for (name, params), (v, unit, _) in jmh.items():
        if name.startswith("FusedOpBench."):
            fused[(name.split(".")[1], dict(params)["side"])] = to_ms(v, unit)
    if fused:
        print("\n## Fused batch norm / 2x2 max pool vs their composites, forward + backward, [100,64,s,s] float32 (ms)\n")
        print("| op | side | fused ms | composite ms | composite / fused |")
        print("|---|---|---|---|---|")
        for op in ("batchNorm", "maxPool", "relu"):
            for side in ("28", "14"):
                f, c = fused.get((op + "Fused", side)), fused.get((op + "Composite", side))
                if f and c:
                    print(f"| {op} | {side} | {f:.2f} | {c:.2f} | {c / f:.2f}x |")
        for side in ("28", "14"):
            f, c = fused.get(("bnReluPoolFused", side)), fused.get(("bnReluPoolSeparate", side))
            if f and c:
                print(f"| batchNorm+relu+maxPool (vs the three fused ops) | {side} | {f:.2f} | {c:.2f} | {c / f:.2f}x |")

    c2 = {}
    for (name, params), (v, unit, _) in jmh.items():
        if name.startswith("Conv2dBench."):
            c2[(name.split(".")[1], dict(params)["input"])] = to_ms(v, unit)
    if c2:
        print("\n## Fused conv2d (implicit im2col) vs its composite (unfold, matmul, add; fold), forward + backward, "
              "conv4's layers, batch 100, float32 (ms)\n")
        print("| input | fused ms | composite ms | composite / fused |")
        print("|---|---|---|---|")
        for inp in ("1x28", "64x14", "64x7", "64x3"):
            f, c = c2.get(("fused", inp)), c2.get(("composite", inp))
            if f and c:
                print(f"| {inp} | {f:.2f} | {c:.2f} | {c / f:.2f}x |")

    conv = [(k, v) for k, v in jmh.items() if k[0].startswith(("ConvGemmBench", "ElementwiseBench", "ReduceBench", "OpenCl"))]
    if conv:
        print("\n## Kernel micro-benchmarks (Metagrad, medians; OpenCl* run on PoCL, i.e. this CPU)\n")
        print("| benchmark | params | median | GFLOP/s (conv GEMMs) |")
        print("|---|---|---|---|")
        for (name, params), (v, unit, _) in sorted(conv):
            pd = dict(params)
            gf = ""
            if name.startswith("ConvGemmBench") and "gemm" in name.split(".")[-1].lower():
                flops = 2 * 64 * int(pd["k"]) * 784 * int(pd["batch"])
                gf = f"{flops / (to_ms(v, unit) / 1e3) / 1e9:.1f}"
            elif name == "OpenClGemmBench.gemm":
                gf = f"{2 * int(pd['n']) ** 3 / (to_ms(v, unit) / 1e3) / 1e9:.1f}"
            ps = ", ".join(f"{k}={v}" for k, v in params if k != "backend")
            print(f"| {name} | {ps} | {v:.3f} {unit} | {gf} |")


def rounds(d):
    """Table of a bench/rounds.sh directory: per round (round-1, round-2, ...), the ratio Metagrad / peer of
    each row measured in that round, where both sides ran minutes apart; then the median over the rounds."""
    dirs = sorted(glob.glob(os.path.join(d, "round-*")), key=lambda p: int(p.rsplit("-", 1)[1]))
    if not dirs:
        sys.exit(f"no round-N directories in {d}")
    table = {}  # label -> list of (Metagrad, peer, ratio) per round, None where the round lacks it
    order = []
    for i, rd in enumerate(dirs):
        get, torch, numpy, _, _ = load_run(rd)
        rows = [(f"sgemm n={n}, {t} thread{'s' if t > 1 else ''} (time ratio vs numpy)", m, pm)
                for n, t, m, pm in sgemm_rows(get, numpy)]
        rows += list(workload_rows(get, torch))
        for label, m, pm in rows:
            if label not in table:
                table[label] = [None] * len(dirs)
                order.append(label)
            if m and pm:
                table[label][i] = (m, pm, m / pm)
    print(f"# Interleaved rounds ({os.path.basename(os.path.normpath(d))}): ratio Metagrad time / peer time\n")
    print("Each round ran Metagrad's JMH benchmarks and the peers' scripts back to back (odd rounds Metagrad first,")
    print("even rounds the peers first); a ratio compares two medians taken minutes apart, the last columns")
    print("take the median over the rounds.\n")
    head = " | ".join(f"round {i + 1}" for i in range(len(dirs)))
    print(f"| row | {head} | median ratio | median Metagrad | median peer | target <= 1.0 (sgemm: <= 1.25) |")
    print("|---|" + "---|" * len(dirs) + "---|---|---|---|")
    for label in order:
        cells = table[label]
        got = [c for c in cells if c]
        if not got:
            continue
        med = statistics.median(c[2] for c in got)
        mm = statistics.median(c[0] for c in got)
        pm = statistics.median(c[1] for c in got)
        limit = 1.25 if label.startswith("sgemm n=1024, 2") else (None if label.startswith("sgemm") else 1.0)
        res = verdict(med, limit)
        cs = " | ".join(f"{c[2]:.2f}" if c else "-" for c in cells)
        digits = 3 if label.startswith("(d)") else 1
        print(f"| {label} | {cs} | **{med:.2f}** | {mm:.{digits}f} | {pm:.{digits}f} | {res} |")


if __name__ == "__main__":
    main()
