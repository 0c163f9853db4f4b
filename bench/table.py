#!/usr/bin/env python3
"""bench/table.py — the arithmetic and the table of bench/run.

    table.py variants DERIVED WORK   per QEMU session of a derived floor, the session alone
                                     and the session without each of its commands, as
                                     WORK/host-cost.<accel>.pairs (name TAB command); prints
                                     the session names
    table.py table WORK              the table, from WORK/rows and the hyperfine JSON

Every figure is a median over all runs of all rounds. A ratio is vcpuprobe's median over the
floor's. A command's cost is the median of the session alone minus the median of the session
without that command; the ± beside it is the usual 95% notch of a median difference
(1.57·IQR/√n for each median, combined in quadrature), a guide to what the load allows.
"""
import glob
import json
import os
import re
import shlex
import statistics
import sys


def label(line):
    msg = json.loads(line)
    name = msg["execute"]
    if name == "query-cpu-model-expansion":
        model = msg["arguments"]["model"]
        props = ",".join(f"{k}={str(v).lower()}" for k, v in model.get("props", {}).items())
        return f"expansion {model['name']}" + (f" {props}" if props else "")
    if name == "qom-get":
        return f"qom-get {msg['arguments']['property']}"
    return name


def variants(derived_path, work):
    derived = json.load(open(derived_path))
    names = []
    for session in derived["sessions"]:
        name = session["accel"]
        if name in names:
            name = f"{name}{len(names)}"
        names.append(name)
        with open(session["file"]) as f:
            lines = [l.rstrip("\n") for l in f if l.strip()]
        argv = shlex.join(session["argv"])
        pairs = [("alone", session["file"])]
        for i, line in enumerate(lines):
            command = json.loads(line)["execute"]
            if command in ("qmp_capabilities", "quit"):
                continue
            path = f"{work}/host-cost.{name}.without{i}.qmp"
            with open(path, "w") as f:
                f.write("".join(l + "\n" for j, l in enumerate(lines) if j != i))
            pairs.append((f"without {label(line)}", path))
        with open(f"{work}/host-cost.{name}.pairs", "w") as f:
            for pair_name, path in pairs:
                script = f"exec {argv} < {shlex.quote(path)} >/dev/null 2>&1"
                f.write(f"{pair_name}\t{'sh -c ' + shlex.quote(script)}\n")
        print(name)


def results(work, ident):
    """name -> (times in seconds over all rounds, exit codes)"""
    merged = {}
    rounds = glob.glob(f"{work}/{glob.escape(ident)}.[0-9]*.json")
    for path in sorted(p for p in rounds if re.fullmatch(r"\d+", p.split(".")[-2])):
        for r in json.load(open(path))["results"]:
            times, codes = merged.setdefault(r["command"], ([], []))
            times.extend(r["times"])
            codes.extend(r.get("exit_codes") or [])
    return merged


def median_ms(times):
    return 1000 * statistics.median(times)


def notch_ms(times):
    if len(times) < 4:
        return float("nan")
    q = statistics.quantiles(times, n=4)
    return 1000 * 1.57 * (q[2] - q[0]) / len(times) ** 0.5


def check_exits(work, ident, merged):
    """Floors must exit 0; vcpuprobe as it did in the run the floor was derived from."""
    expected = {"floor": 0, "shell": 0, "base": 0}
    derived_path = f"{work}/{ident}.derived"
    if os.path.exists(derived_path):
        expected["vcpuprobe"] = json.load(open(derived_path))["exit"]
    # a check that fails, the hook refusing: the status of the run made before measuring
    for name, suffix in (("vcpuprobe", "exit"), ("floor", "floor-exit")):
        if os.path.exists(f"{work}/{ident}.{suffix}"):
            expected[name] = int(open(f"{work}/{ident}.{suffix}").read())
    problems = []
    for name, (_, codes) in merged.items():
        want = expected.get(name, 0)
        bad = [c for c in codes if c != want]
        if bad:
            problems.append(f"{ident}/{name}: {len(bad)} of {len(codes)} runs exited "
                            f"{sorted(set(bad))}, expected {want}")
    return problems


def table(work):
    rows = [line.rstrip("\n").split("|", 3) for line in open(f"{work}/rows")]
    out, problems, misses = [], [], []
    head = f"{'scenario':58s} {'floor':>8s} {'vcpuprobe':>10s} {'ratio':>6s} {'target':>7s}  {'':4s} load"
    out += [head, "-" * len(head)]
    for ident, kind, target, text in rows:
        loadavg = ""
        if os.path.exists(f"{work}/{ident}.load"):
            loadavg = open(f"{work}/{ident}.load").read().split()[0]
        if kind == "note":
            out.append(f"{text:58s} {'-':>8s} {'-':>10s}")
            continue
        if kind == "trips":
            derived = json.load(open(f"{work}/{ident}.derived"))
            # the QEMU started with the guest's -cpu; the other is the baseline
            guest = next((s for s in derived["sessions"] if s["cpu"]),
                         max(derived["sessions"], key=lambda s: s["round_trips"]))
            trips = guest["round_trips"]
            verdict = "ok" if trips <= int(target) else "MISS"
            detail = " + ".join(str(len(b)) for b in guest["batches"])
            out.append(f"{text:58s} {'':>8s} {trips:>10d} {'':>6s} {'<= ' + target:>7s}  {verdict:4s} "
                       f"(commands per wait: {detail})")
            if verdict == "MISS":
                misses.append(text.strip())
            continue
        merged = results(work, ident)
        problems += check_exits(work, ident, merged)
        if kind == "ratio":
            floor, probe = median_ms(merged["floor"][0]), median_ms(merged["vcpuprobe"][0])
            ratio = probe / floor
            verdict = "ok" if ratio <= float(target) else "MISS"
            n = len(merged["vcpuprobe"][0])
            out.append(f"{text:58s} {floor:6.1f}ms {probe:8.1f}ms {ratio:6.2f} {'<= ' + target:>7s}  "
                       f"{verdict:4s} {loadavg} (n={n})")
            if verdict == "MISS":
                misses.append(f"{text}: ratio {ratio:.2f} (vcpuprobe {probe - floor:+.1f} ms "
                              f"over a {floor:.1f} ms floor; target {target})")
        elif kind == "wall":
            name = next(n for n in merged if n != "base")
            probe = median_ms(merged[name][0])
            verdict = "" if target == "-" else "ok" if probe <= float(target) else "MISS"
            tgt = "" if target == "-" else f"<= {target}ms"
            # with a base (the program started for --version): what the command adds to it
            base = f"{median_ms(merged['base'][0]):6.2f}ms" if "base" in merged else f"{'-':>8s}"
            part = (f"; {probe - median_ms(merged['base'][0]):.2f} ms over --version"
                    if "base" in merged else "")
            out.append(f"{text:58s} {base} {probe:8.2f}ms {'':>6s} {tgt:>7s}  {verdict:4s} {loadavg} "
                       f"(n={len(merged[name][0])}{part})")
            if verdict == "MISS":
                misses.append(f"{text}: {probe:.2f} ms (target {target} ms)")
        elif kind == "over":
            # what vcpuprobe adds to a shell that only opens its standard input
            floor, whole = median_ms(merged["shell"][0]), median_ms(merged["vcpuprobe"][0])
            over = whole - floor
            verdict = "ok" if over <= float(target) else "MISS"
            spread = (notch_ms(merged["shell"][0]) ** 2 + notch_ms(merged["vcpuprobe"][0]) ** 2) ** 0.5
            out.append(f"{text:58s} {floor:6.2f}ms {whole:8.2f}ms {'':>6s} {'<= ' + target + 'ms':>7s}  "
                       f"{verdict:4s} {loadavg} (n={len(merged['vcpuprobe'][0])}; "
                       f"vcpuprobe's part {over:.2f} ms ±{spread:.2f})")
            if verdict == "MISS":
                misses.append(f"{text}: {over:.2f} ms over the shell (target {target} ms)")
        elif kind == "costs":
            alone = merged["alone"][0]
            out.append(f"{text + ': all of it':58s} {median_ms(alone):6.1f}ms {'':>10s} {'':>6s} {'':>7s}  "
                       f"{'':4s} {loadavg}")
            for name, (times, _) in merged.items():
                if name == "alone":
                    continue
                cost = median_ms(alone) - median_ms(times)
                spread = (notch_ms(alone) ** 2 + notch_ms(times) ** 2) ** 0.5
                item = "    cost of " + name[len("without "):]
                out.append(f"{item:58s} {cost:+6.1f}ms ±{spread:.1f}")
    print("\n".join(out))
    if misses:
        print("\nmissed targets:")
        print("\n".join("  " + m for m in misses))
    if problems:
        print("\nunexpected exit statuses (results above are suspect):")
        print("\n".join("  " + p for p in problems))


if __name__ == "__main__":
    if sys.argv[1] == "variants":
        variants(sys.argv[2], sys.argv[3])
    else:
        table(sys.argv[2])
