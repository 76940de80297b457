#!/usr/bin/env python3
"""Summary of a bench/gpu/run.sh run, as Markdown ready to paste into bench/RESULTS.md.

    python3 bench/gpu/summary.py LOGDIR > summary.md

LOGDIR is run.sh's log folder (parts.tsv, env.log, junit-*/, jmh-gemm.json, jmh-workloads.json, torch.log,
train-*/metrics.json). Reads what is there and says what is missing; never fails on a partial run.
Times are medians (JMH SampleTime p50; PyTorch: the median of its timed iterations, synchronized).
Targets (issue 25, on the same GPU): SGEMM n=4096 >= 0.9x cuBLAS through PyTorch (GFLOP/s ratio);
MAML meta-step and ProtoNet episode <= 1.0x PyTorch's time.
"""
import glob
import json
import os
import sys
import xml.etree.ElementTree as ET


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def fmt(v, digits=2):
    return "—" if v is None else f"{v:,.{digits}f}"


def jmh_rows(path):
    """(benchmark short name, params, p50 ms, mean ms, samples) per JMH result."""
    text = read(path)
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        return []
    rows = []
    for r in data:
        m = r.get("primaryMetric", {})
        unit = m.get("scoreUnit", "ms/op")
        scale = {"ms/op": 1.0, "us/op": 1e-3, "s/op": 1e3, "ns/op": 1e-6}.get(unit, 1.0)
        p50 = m.get("scorePercentiles", {}).get("50.0")
        rows.append((r["benchmark"].rsplit(".", 1)[-1], r.get("params", {}),
                     None if p50 is None else p50 * scale, m.get("score", 0) * scale,
                     sum(len(x) for x in m.get("rawDataHistogram", [[]])[0]) if "rawDataHistogram" in m else None))
    return rows


def torch_rows(path):
    out, env = {}, {}
    for line in (read(path) or "").splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if j.get("bench") == "env":
            env = j
        else:
            out[j.get("bench")] = j
    return env, out


def junit_counts(folder):
    tests = fail = err = skip = 0
    t = 0.0
    found = False
    for x in glob.glob(os.path.join(folder, "*.xml")):
        try:
            root = ET.parse(x).getroot()
        except ET.ParseError:
            continue
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for s in suites:
            found = True
            tests += int(s.get("tests", 0))
            fail += int(s.get("failures", 0))
            err += int(s.get("errors", 0))
            skip += int(s.get("skipped", 0))
            t += float(s.get("time", 0) or 0)
    return (tests, fail, err, skip, t) if found else None


def junit_failures(folder, limit=5):
    names = []
    for x in glob.glob(os.path.join(folder, "*.xml")):
        try:
            root = ET.parse(x).getroot()
        except ET.ParseError:
            continue
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                names.append(f"{case.get('classname', '').rsplit('.', 1)[-1]}.{case.get('name')}")
    return names[:limit], len(names)


def first_error(log):
    """The first line of a part's log that names an exception or error, shortened (for a failed part's note)."""
    for line in log.splitlines():
        t = line.strip()
        if ("Exception" in t or "Error" in t or "error:" in t) and not t.startswith("at "):
            return t[:160]
    return "see its log in logs.tar.gz"


def judge(ratio, ok, device, tenv):
    """yes/no against a target, only when Metagrad ran on cuda and PyTorch on cuda (the targets' condition)."""
    if ratio is None:
        return "—"
    if not (str(device).startswith("cuda") and tenv.get("impl") == "pytorch-cuda"):
        return "n/a (not both on the GPU)"
    return "yes" if ok else "no"


def main():
    logs = sys.argv[1] if len(sys.argv) > 1 else "."
    p = lambda *a: os.path.join(logs, *a)  # noqa: E731
    env = read(p("env.log")) or ""
    gpu = "unknown GPU"
    for line in env.splitlines():
        if line.startswith("name,") or not line.strip():
            continue
        if line.count(",") >= 2 and ("NVIDIA" in line or "Tesla" in line or "H100" in line or "H200" in line):
            gpu = line.strip()
            break
    date = next((l.split("date: ", 1)[1].split(";")[0] for l in env.splitlines() if "date: " in l), "?")
    cuda_ver = next((l.split("CUDA Version:")[1].split("|")[0].strip() for l in env.splitlines() if "CUDA Version:" in l), "?")
    java = (read(p("java-version.txt")) or "?").splitlines()
    manifest = (read(p("dist-manifest.txt")) or "").splitlines()
    tenv, trows = torch_rows(p("torch.log"))

    print(f"### GPU run {date}: {gpu}")
    print()
    print(f"GPU (name, driver, memory, max SM/memory clocks from nvidia-smi): {gpu}; CUDA (driver) {cuda_ver}.  ")
    print(f"JRE: {java[1] if len(java) > 1 else java[0]} (jlinked); dist: {manifest[0] if manifest else '?'}.  ")
    if tenv:
        print(f"PyTorch {tenv.get('torch')} ({tenv.get('impl')}, CUDA {tenv.get('cuda', '—')}, cuDNN {tenv.get('cudnn', '—')},"
              f" TF32 matmul {tenv.get('tf32_matmul', '—')}, TF32 cuDNN {tenv.get('tf32_cudnn', '—')}).")
    print()

    print("| part | status | seconds | note |")
    print("| --- | --- | --- | --- |")
    for line in (read(p("parts.tsv")) or "").splitlines()[1:]:
        f = (line.split("\t") + ["", "", "", ""])[:4]
        note = f[3]
        if f[1].startswith(("failed", "timeout")):
            why = first_error(read(p(f[0] + ".log")) or "")
            note = (note + "; " if note else "") + why
        print(f"| {f[0]} | {f[1]} | {f[2]} | {note.replace('|', '/')} |")
    print()

    junits = sorted(d for d in glob.glob(p("junit-*")) if os.path.isdir(d))
    if junits:
        print("| JUnit suite | tests | failed | errors | skipped | seconds | first failures |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for d in junits:
            c = junit_counts(d)
            names, n = junit_failures(d)
            if c is None:
                print(f"| {os.path.basename(d)} | no report | | | | | |")
            else:
                more = f" (+{n - len(names)} more)" if n > len(names) else ""
                print(f"| {os.path.basename(d)[6:]} | {c[0]} | {c[1]} | {c[2]} | {c[3]} | {c[4]:.1f} | "
                      f"{', '.join(names)}{more} |")
        print()

    gemm = jmh_rows(p("jmh-gemm.json"))
    tg = trows.get("sgemm")
    if gemm or tg:
        n = (gemm[0][1].get("n") if gemm else None) or (tg or {}).get("n")
        print(f"SGEMM n={n}, float32 (target: >= 0.9x the GFLOP/s of cuBLAS through PyTorch on the same GPU)")
        print()
        print("| implementation | median ms | GFLOP/s | x PyTorch | target met |")
        print("| --- | --- | --- | --- | --- |")
        tflops = tg.get("gflops") if tg else None
        for name, params, p50, mean, _ in gemm:
            nn = int(params.get("n", 0))
            ms = p50 if p50 is not None else mean
            gf = 2.0 * nn ** 3 / (ms * 1e-3) / 1e9 if ms else None
            ratio = gf / tflops if gf and tflops else None
            met = judge(ratio, ratio is not None and ratio >= 0.9, params.get("device"), tenv)
            print(f"| Metagrad {params.get('device')} gemm={params.get('gemm')} | {fmt(ms, 3)} | {fmt(gf, 1)} |"
                  f" {fmt(ratio)} | {met} |")
        if tg:
            print(f"| PyTorch torch.matmul ({tenv.get('impl', '?')}) | {fmt(tg.get('median_ms'), 3)} |"
                  f" {fmt(tflops, 1)} | 1.00 | |")
        print()

    work = jmh_rows(p("jmh-workloads.json"))
    if work or trows:
        print("Workloads of bench/RESULTS.md, median ms per operation (targets: MAML meta-step and ProtoNet"
              " episode <= 1.0x PyTorch's time)")
        print()
        print("| workload | Metagrad | PyTorch | Metagrad / PyTorch | target met |")
        print("| --- | --- | --- | --- | --- |")
        spec = [("conv4ForwardBackward", "conv4_fwd_bwd", "conv4 forward+backward, 100 images", None),
                ("mamlMetaStep", "maml2_1step", "MAML meta-step, 2nd order, 1 inner step, 4 tasks 5-way 1-shot", 1.0),
                ("protoNetEpisode", "protonet_60w5s", "ProtoNet episode, 60-way 5-shot 5-query", 1.0)]
        for jname, tname, label, target in spec:
            mg = next((r for r in work if r[0] == jname), None)
            mg_ms = None if mg is None else (mg[2] if mg[2] is not None else mg[3])
            dev = "" if mg is None else f" ({mg[1].get('device')})"
            t_ms = trows.get(tname, {}).get("median_ms")
            ratio = mg_ms / t_ms if mg_ms and t_ms else None
            met = "—" if target is None else judge(ratio, ratio is not None and ratio <= target,
                                                     None if mg is None else mg[1].get("device"), tenv)
            print(f"| {label}{dev} | {fmt(mg_ms)} | {fmt(t_ms)} | {fmt(ratio)} | {met} |")
        print()
        for name in ("sgemm", "conv4_fwd_bwd", "maml2_1step", "protonet_60w5s"):
            e = trows.get(name, {}).get("error")
            if e:
                print(f"PyTorch {name} failed: {e.splitlines()[-1][:200]}  ")

    trains = sorted(d for d in glob.glob(p("train-*")) if os.path.isdir(d))
    if trains:
        print()
        print("`metagrad train --algorithm protonet` (Omniglot subset, split background, 5-way 1-shot)")
        print()
        print("| device | iterations | test accuracy | 95% CI | wall s (part) |")
        print("| --- | --- | --- | --- | --- |")
        secs = {}
        for line in (read(p("parts.tsv")) or "").splitlines()[1:]:
            f = line.split("\t")
            if len(f) >= 3:
                secs[f[0]] = f[2] + ("" if f[1] == "ok" else f" ({f[1]})")
        for d in trains:
            m = {}
            try:
                m = json.loads(read(os.path.join(d, "metrics.json")) or "{}")
            except ValueError:
                pass
            acc, ci = m.get("test_accuracy"), m.get("test_ci95")
            it = m.get("iterations", m.get("config", {}).get("iterations", "?")) if isinstance(m, dict) else "?"
            name = os.path.basename(d)
            print(f"| {name[6:]} | {it} | {fmt(None if acc is None else 100 * acc)}% | "
                  f"{'—' if ci is None else '± ' + fmt(100 * ci)} | {secs.get(name, '?')} |")


if __name__ == "__main__":
    main()
