#!/usr/bin/python3
"""PyTorch (CPU or CUDA) peer benchmarks for Metagrad's end-to-end JMH workloads.

Run with Debian's PyTorch (apt-get install python3-torch), which lives in /usr/bin/python3:
    /usr/bin/python3 bench/python/torch_workloads.py --threads 2
On an NVIDIA GPU (bench/gpu/run.sh does this beside Metagrad's DeviceGemmBench and DeviceWorkloadBench):
    python3 bench/python/torch_workloads.py --device cuda --only sgemm,conv4_fwd_bwd,maml2_1step,protonet_60w5s

--device cuda: parameters and inputs are made on the CPU from the same generator as for --device cpu and
copied to the GPU; every timed iteration ends with torch.cuda.synchronize() before the clock is read, so
it includes the kernels, not only their launch. TF32 is off for matmul and cuDNN convolutions (float32
like Metagrad) unless --tf32. The *_tasks variants are CPU-only.

Workloads (all float32, seeded random inputs, torch.set_num_threads(--threads)):
  conv4_fwd_bwd   conv4 Omniglot backbone on [100, 1, 28, 28]: 4 x [conv3x3 64ch pad 1, batch norm with
                  batch statistics (F.batch_norm training=True, no running stats), ReLU, maxpool 2],
                  flatten, linear to 5 classes, cross-entropy; forward + backward (autograd.grad
                  w.r.t. all 18 parameters).
  maml{1,2}_{1,5}step
                  one MAML meta-step: 5-way 1-shot 15-query, meta-batch 4, inner lr 0.4, 1 or 5
                  inner steps, the functional conv4 above; second order (2: inner gradients with
                  create_graph=True) or first order (1: inner gradients detached); the meta-gradient
                  of the mean query loss w.r.t. the initial parameters, one autograd graph over
                  the 4 tasks, each op split over --threads intra-op threads.
  maml{1,2}_{1,5}step_tasks
                  the same meta-step scheduled as Metagrad's MetaTrainer runs it: the tasks side by
                  side, one per thread (a ThreadPoolExecutor of --threads workers, intra-op threads
                  set to 1; autograd runs CPU backward on the calling thread and ops release the
                  GIL), each task's gradient of its query loss / 4 taken on its own, and the
                  per-task gradients summed in task order. Same parameters, tasks and result.
  protonet_60w5s  ProtoNet episode, 60-way 5-shot 5-query (600 images 28x28) through conv4 without
                  the linear head: prototypes = class means of support embeddings, logits = minus
                  squared Euclidean distance, cross-entropy over 300 queries; forward + backward.
  sgemm           torch.matmul of two float32 [n, n] matrices (n = --gemm-n, default 4096; cuBLAS on
                  CUDA), result allocation included (the caching allocator reuses it); reports
                  GFLOP/s = 2 n^3 / median time.
  add_chain       per-op overhead: 10,000 chained adds y = y + x on [1, 10] tensors with
                  requires_grad; forward time / 10,000 and backward (autograd.grad) time / 10,000.

Timing: time.perf_counter around each whole iteration, after warm-up iterations; the median over
the repeats (scaled by --repeat-scale, capped by --budget-s) is reported, with min and max, and
the median process CPU time (time.process_time, all threads) as cpu_median_ms: on a shared machine
wall time includes waiting for a core, CPU time does not (but it does include OpenMP spin-waiting).

Threads: torch.set_num_threads(--threads). On a machine whose cores are shared with other jobs,
libgomp's default spin-waiting can make 2 threads several times slower than 1;
--omp-wait-policy PASSIVE sets OMP_WAIT_POLICY for the child processes.

Memory: each workload runs in a fresh child process (this script re-invoked with --workload).
peak_rss_delta_mib = ru_maxrss (peak resident set size, getrusage(RUSAGE_SELF), KiB on Linux)
after the workload minus ru_maxrss after imports, parameter and input creation. It is the growth of
the process's high-water mark, so it includes the CPU allocator's caching and autograd's saved
tensors at their peak, and is an upper bound on live tensor memory. (tracemalloc does not see
PyTorch's C++ allocations, and torch.cuda.max_memory_allocated is CUDA-only.)

Sanity: every loss is checked to be finite with math.isfinite (no numpy). Output: one JSON line
per workload, preceded by an environment line.
"""
import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn.functional as F

# Where the workloads run: "cpu" or "cuda" (set by run_one from --device).
DEVICE = "cpu"


def to_dev(t):
    """A CPU-made tensor on DEVICE (a new leaf)."""
    return t.to(DEVICE)


def sync():
    """Waits for the GPU's queued work (nothing on the CPU), so a clock read after it includes the kernels."""
    if DEVICE == "cuda":
        torch.cuda.synchronize()

WORKLOADS = ["sgemm", "conv4_fwd_bwd", "maml2_1step", "maml1_1step", "maml2_5step", "maml1_5step",
             "maml2_1step_tasks", "maml1_1step_tasks", "maml2_5step_tasks", "protonet_60w5s", "add_chain"]


# ----------------------------------------------------------------------------- the model

def conv4_params(gen, ways=5, hidden=64, in_ch=1, head=True):
    """Parameters of conv4 as a flat list: per block conv weight, conv bias, bn weight, bn bias."""
    params = []
    c = in_ch
    for _ in range(4):
        fan_in = c * 9
        bound = 1.0 / math.sqrt(fan_in)
        params.append((torch.rand(hidden, c, 3, 3, generator=gen) * 2 - 1) * bound)
        params.append((torch.rand(hidden, generator=gen) * 2 - 1) * bound)
        params.append(torch.ones(hidden))
        params.append(torch.zeros(hidden))
        c = hidden
    if head:
        bound = 1.0 / math.sqrt(hidden)
        params.append((torch.rand(ways, hidden, generator=gen) * 2 - 1) * bound)
        params.append((torch.rand(ways, generator=gen) * 2 - 1) * bound)
    return [to_dev(p).requires_grad_() for p in params]


def conv4_forward(params, x, head=True):
    """Functional conv4: 4 x [conv3x3 pad 1, batch norm (batch statistics), ReLU, maxpool 2]."""
    for b in range(4):
        w, bias, gamma, beta = params[4 * b: 4 * b + 4]
        x = F.conv2d(x, w, bias, padding=1)
        x = F.batch_norm(x, None, None, gamma, beta, training=True)
        x = F.max_pool2d(F.relu(x), 2)
    x = x.flatten(1)  # 28 -> 14 -> 7 -> 3 -> 1: [N, 64]
    if head:
        x = F.linear(x, params[16], params[17])
    return x


def check_finite(name, loss):
    v = float(loss.detach())
    if not math.isfinite(v):
        raise SystemExit(f"{name}: loss is not finite ({v})")
    return v


# ----------------------------------------------------------------------------- workloads

def make_conv4_fwd_bwd(gen):
    params = conv4_params(gen)
    x = to_dev(torch.randn(100, 1, 28, 28, generator=gen))
    y = to_dev(torch.randint(0, 5, (100,), generator=gen))

    def step():
        loss = F.cross_entropy(conv4_forward(params, x), y)
        grads = torch.autograd.grad(loss, params)
        assert len(grads) == len(params)
        return loss
    return step


def make_maml(gen, second_order, inner_steps, ways=5, shots=1, queries=15, meta_batch=4, inner_lr=0.4,
              task_threads=None):
    params = conv4_params(gen, ways=ways)
    tasks = []
    for _ in range(meta_batch):
        xs = to_dev(torch.randn(ways * shots, 1, 28, 28, generator=gen))
        ys = to_dev(torch.arange(ways).repeat_interleave(shots))
        xq = to_dev(torch.randn(ways * queries, 1, 28, 28, generator=gen))
        yq = to_dev(torch.arange(ways).repeat_interleave(queries))
        tasks.append((xs, ys, xq, yq))

    def query_loss(task):
        xs, ys, xq, yq = task
        fast = params
        for _ in range(inner_steps):
            loss = F.cross_entropy(conv4_forward(fast, xs), ys)
            grads = torch.autograd.grad(loss, fast, create_graph=second_order)
            fast = [p - inner_lr * g for p, g in zip(fast, grads)]
        return F.cross_entropy(conv4_forward(fast, xq), yq)

    def step():
        meta_loss = 0.0
        for task in tasks:
            meta_loss = meta_loss + query_loss(task)
        meta_loss = meta_loss / len(tasks)
        meta_grads = torch.autograd.grad(meta_loss, params)
        assert all(g is not None for g in meta_grads)
        return meta_loss

    if task_threads is None:
        return step
    pool = ThreadPoolExecutor(max_workers=task_threads, thread_name_prefix="maml-task")

    def task_grad(task):
        q = query_loss(task) / len(tasks)
        return q.detach(), torch.autograd.grad(q, params)

    def step_tasks():
        results = list(pool.map(task_grad, tasks))  # in task order
        meta_loss = sum(q for q, _ in results)
        meta_grads = [sum(gs) for gs in zip(*(g for _, g in results))]
        assert len(meta_grads) == len(params)
        return meta_loss
    return step_tasks


def make_protonet(gen, ways=60, shots=5, queries=5):
    params = conv4_params(gen, head=False)
    support = torch.randn(ways * shots, 1, 28, 28, generator=gen)
    query = torch.randn(ways * queries, 1, 28, 28, generator=gen)
    x = to_dev(torch.cat([support, query]))  # 600 images, one forward pass as in the reference code
    yq = to_dev(torch.arange(ways).repeat_interleave(queries))

    def step():
        z = conv4_forward(params, x, head=False)
        zs, zq = z[: ways * shots], z[ways * shots:]
        protos = zs.reshape(ways, shots, -1).mean(1)
        d = (zq.unsqueeze(1) - protos.unsqueeze(0)).pow(2).sum(-1)  # [300, 60]
        loss = F.cross_entropy(-d, yq)
        torch.autograd.grad(loss, params)
        return loss
    return step


def run_sgemm(gen, n, warmup, repeats, budget_s):
    """Median time of c = a @ b for float32 [n, n] operands on DEVICE, synchronized per product."""
    a = to_dev(torch.rand(n, n, generator=gen) * 2 - 1)
    b = to_dev(torch.rand(n, n, generator=gen) * 2 - 1)
    c = a @ b
    # 64 sampled entries against a float64 dot product on the CPU
    ca, cb, cc = a.double().cpu(), b.double().cpu(), c.cpu()
    idx = torch.randint(0, n, (64, 2), generator=gen)
    for i, j in idx.tolist():
        want = float(ca[i] @ cb[:, j])
        if abs(float(cc[i, j]) - want) > 1e-5 * n + 1e-4:
            raise SystemExit(f"sgemm: C[{i},{j}] = {float(cc[i, j])}, expected {want}")
    for _ in range(warmup):
        c = a @ b
    sync()
    t0 = time.perf_counter()
    c = a @ b
    sync()
    first = time.perf_counter() - t0
    repeats = max(3, min(repeats, int(budget_s / max(first, 1e-6))))
    wall = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        c = a @ b
        sync()
        wall.append(time.perf_counter() - t0)
    med = statistics.median(wall)
    return {"n": n, "median_ms": med * 1e3, "min_ms": min(wall) * 1e3, "max_ms": max(wall) * 1e3,
            "gflops": 2.0 * n ** 3 / med / 1e9, "repeats": len(wall)}


def run_add_chain(gen, repeats, length=10_000):
    x = torch.randn(1, 10, generator=gen, requires_grad=True)
    fwd, bwd = [], []
    for i in range(repeats + 2):  # two warm-up rounds
        t0 = time.perf_counter()
        y = x
        for _ in range(length):
            y = y + x
        t1 = time.perf_counter()
        loss = y.sum()
        (g,) = torch.autograd.grad(loss, x)
        t2 = time.perf_counter()
        if abs(float(g[0, 0]) - (length + 1)) > 1e-3:
            raise SystemExit(f"add_chain: gradient {float(g[0, 0])} != {length + 1}")
        check_finite("add_chain", loss)
        if i >= 2:
            fwd.append((t1 - t0) / length)
            bwd.append((t2 - t1) / length)
    return {
        "fwd_per_op_us": statistics.median(fwd) * 1e6,
        "bwd_per_op_us": statistics.median(bwd) * 1e6,
        "fwd_per_op_us_min": min(fwd) * 1e6,
        "bwd_per_op_us_min": min(bwd) * 1e6,
        "chain_length": length,
        "repeats": len(fwd),
    }


def time_step(name, step, warmup, repeats, budget_s):
    """Median wall and CPU time of step() after warm-up. The first warm-up call is timed; if
    repeats calls of that length would exceed budget_s, fewer are made (at least 3)."""
    t0 = time.perf_counter()
    check_finite(name, step())
    sync()
    first = time.perf_counter() - t0
    for _ in range(warmup - 1):
        check_finite(name, step())
    repeats = max(3, min(repeats, int(budget_s / max(first, 1e-6))))
    wall, cpu, loss = [], [], None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        loss = step()
        sync()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        check_finite(name, loss)
    return {
        "median_ms": statistics.median(wall) * 1e3,
        "min_ms": min(wall) * 1e3,
        "max_ms": max(wall) * 1e3,
        "cpu_median_ms": statistics.median(cpu) * 1e3,
        "repeats": len(wall),
        "loss": float(loss.detach()),
    }


def maxrss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def set_device(device, tf32):
    """Selects DEVICE; on CUDA sets TF32 for matmul and cuDNN as asked (off: float32 as Metagrad computes)."""
    global DEVICE
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch.cuda.is_available() is False")
    DEVICE = device
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32


def run_one(name, threads, repeat_scale, budget_s, device="cpu", tf32=False, gemm_n=4096):
    tasks_schedule = name.endswith("_tasks")
    if tasks_schedule and device != "cpu":
        raise SystemExit(f"{name}: the task-parallel schedule is CPU-only")
    set_device(device, tf32)
    torch.set_num_threads(1 if tasks_schedule else threads)
    gen = torch.Generator().manual_seed(1234)
    torch.manual_seed(1234)
    r = lambda n: max(3, int(round(n * repeat_scale)))  # noqa: E731
    if name == "sgemm":
        base = maxrss_mib()
        result = run_sgemm(gen, gemm_n, 3, r(20), budget_s)
    elif name == "add_chain":
        base = maxrss_mib()
        result = run_add_chain(gen, r(5))
    else:
        if name == "conv4_fwd_bwd":
            step, warmup, repeats = make_conv4_fwd_bwd(gen), 3, r(20)
        elif name.startswith("maml"):
            order = int(name[4])
            steps = int(name.split("_")[1][0])
            step = make_maml(gen, second_order=(order == 2), inner_steps=steps,
                             task_threads=threads if tasks_schedule else None)
            warmup, repeats = 2, r(10 if steps == 1 else 5)
        elif name == "protonet_60w5s":
            step, warmup, repeats = make_protonet(gen), 2, r(10)
        else:
            raise SystemExit(f"unknown workload {name}; choose from {WORKLOADS}")
        base = maxrss_mib()
        result = time_step(name, step, warmup, repeats, budget_s)
    result["peak_rss_delta_mib"] = round(maxrss_mib() - base, 1)
    result["peak_rss_mib"] = round(maxrss_mib(), 1)
    if device == "cuda":
        result["cuda_max_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 1048576.0, 1)
    # threads: intra-op threads for one-graph workloads, task threads (each single-threaded) for *_tasks
    return {"bench": name, "impl": "pytorch-" + device, "threads": threads if tasks_schedule else torch.get_num_threads(),
            "intra_op_threads": torch.get_num_threads(), **result}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where the workloads run")
    p.add_argument("--tf32", action="store_true", help="CUDA: allow TF32 in matmul and cuDNN (default: off)")
    p.add_argument("--gemm-n", type=int, default=4096, help="matrix size of the sgemm workload")
    p.add_argument("--workload", help="run one workload in this process (used internally per child)")
    p.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated subset of workloads")
    p.add_argument("--repeat-scale", type=float, default=1.0, help="scale the number of timed repeats")
    p.add_argument("--budget-s", type=float, default=60.0,
                   help="cap on timed seconds per workload: fewer repeats (at least 3) for slow ones")
    p.add_argument("--omp-wait-policy", choices=["PASSIVE", "ACTIVE"],
                   help="set OMP_WAIT_POLICY in the child processes (libgomp reads it at start-up); "
                        "PASSIVE avoids spinning threads stealing the cores on a shared machine")
    args = p.parse_args()
    if args.workload:
        print(json.dumps(run_one(args.workload, args.threads, args.repeat_scale, args.budget_s, args.device,
                                 args.tf32, args.gemm_n)), flush=True)
        return
    torch.set_num_threads(args.threads)
    gpu = {}
    if args.device == "cuda":
        set_device("cuda", args.tf32)
        prop = torch.cuda.get_device_properties(0)
        gpu = {"gpu": torch.cuda.get_device_name(0), "cuda": torch.version.cuda,
               "cudnn": torch.backends.cudnn.version(), "sms": prop.multi_processor_count,
               "gpu_memory_mib": prop.total_memory // 1048576,
               "tf32_matmul": torch.backends.cuda.matmul.allow_tf32, "tf32_cudnn": torch.backends.cudnn.allow_tf32}
    print(json.dumps({
        "bench": "env", "impl": "pytorch-" + args.device, **gpu, "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(), "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
        "parallel_info": [l.strip() for l in torch.__config__.parallel_info().splitlines() if "backend" in l or "MKL" in l],
        "memory_method": "peak RSS growth (getrusage ru_maxrss) in a fresh process per workload",
        "omp_wait_policy": args.omp_wait_policy or os.environ.get("OMP_WAIT_POLICY"),
    }), flush=True)
    failed = False
    for name in args.only.split(","):
        cmd = [sys.executable, os.path.abspath(__file__), "--workload", name, "--threads", str(args.threads),
               "--repeat-scale", str(args.repeat_scale), "--budget-s", str(args.budget_s),
               "--device", args.device, "--gemm-n", str(args.gemm_n)] + (["--tf32"] if args.tf32 else [])
        env = dict(os.environ)
        if args.omp_wait_policy:
            env["OMP_WAIT_POLICY"] = args.omp_wait_policy
        out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if out.returncode != 0:
            failed = True
            print(json.dumps({"bench": name, "error": (out.stderr or out.stdout).strip()[-2000:]}), flush=True)
        else:
            sys.stdout.write(out.stdout)
            sys.stdout.flush()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
