#!/bin/sh
# bench/host.sh — `vcpuprobe host` against its floor, medians side by side in one run:
#   floor     two QEMUs in parallel (kvm and tcg, -machine none) answering, over -qmp stdio
#             from a file, the same commands vcpuprobe sends (closest-model expansions aside)
#   cold      vcpuprobe host --no-cache (both QEMUs, in parallel, pipelined)
#   warm      vcpuprobe host with the cache filled (no QEMU; includes the CPUID walk)
#   virsh     virsh domcapabilities, when libvirt is installed
# Then the cost of each QMP command, timed one at a time against a live QEMU.
#   BENCH_RUNS=N (default 20), VCPUPROBE=path (default build/tools/vcpuprobe)
# Timings on a loaded machine are worth little: the script prints the load average.
set -eu
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-20}
vcpuprobe=${VCPUPROBE:-build/tools/vcpuprobe}
[ -x "$vcpuprobe" ] || ./quickstart test --list >/dev/null
command -v hyperfine >/dev/null 2>&1 || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"

commands() {
  cat <<JSON
{"execute":"qmp_capabilities"}
{"execute":"query-kvm"}
{"execute":"query-machines"}
{"execute":"query-cpu-definitions"}
{"execute":"query-cpu-model-expansion","arguments":{"type":"full","model":{"name":"$1"}}}
{"execute":"query-cpu-model-expansion","arguments":{"type":"full","model":{"name":"$1","props":{"migratable":false}}}}
{"execute":"quit"}
JSON
}
commands host > "$work/kvm.qmp"
commands max > "$work/tcg.qmp"
qemu="qemu-system-x86_64 -S -no-user-config -nodefaults -nographic -qmp stdio"
accels="tcg"
[ -w /dev/kvm ] && accels="kvm tcg"
floor=""
for accel in $accels; do
  floor="$floor $qemu -machine none,accel=$accel < $work/$accel.qmp > /dev/null 2>&1 &"
done
floor="$floor wait"

"$vcpuprobe" host > /dev/null   # fills the cache for the warm runs
set -- --command-name floor "sh -c '$floor'" \
       --command-name cold "$vcpuprobe host --no-cache" \
       --command-name warm "$vcpuprobe host"
if command -v virsh >/dev/null 2>&1; then
  set -- "$@" --command-name virsh "virsh domcapabilities"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); runs: $runs; accelerators: $accels"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/r.json" "$@" >/dev/null 2>&1 ||
  hyperfine --warmup 3 --runs "$runs" --export-json "$work/r.json" "$@" >/dev/null
python3 - "$work/r.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
for r in results:
    print(f"  {r['command']:8s} median {r['median']*1000:8.1f} ms   min {r['min']*1000:8.1f} ms")
PY

echo "cost of each command (best of 5, one QEMU at a time):"
python3 - $accels <<'PY'
import json, subprocess, sys, time
for accel in sys.argv[1:]:
    model = "host" if accel == "kvm" else "max"
    start = time.monotonic()
    qemu = subprocess.Popen(["qemu-system-x86_64", "-S", "-no-user-config", "-nodefaults",
                             "-nographic", "-machine", "none,accel=" + accel, "-qmp", "stdio"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    qemu.stdout.readline()
    print(f"  {accel}: start to greeting {1000 * (time.monotonic() - start):6.1f} ms")
    def run(command, arguments=None):
        message = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        begin = time.monotonic()
        qemu.stdin.write(json.dumps(message) + "\n")
        qemu.stdin.flush()
        while "return" not in (reply := json.loads(qemu.stdout.readline())) and "error" not in reply:
            pass
        return 1000 * (time.monotonic() - begin)
    run("qmp_capabilities")
    for label, command, arguments in [
            ("query-kvm", "query-kvm", None),
            ("query-machines", "query-machines", None),
            ("query-cpu-definitions", "query-cpu-definitions", None),
            (f"expansion {model}", "query-cpu-model-expansion",
             {"type": "full", "model": {"name": model}}),
            (f"expansion {model} migratable=off", "query-cpu-model-expansion",
             {"type": "full", "model": {"name": model, "props": {"migratable": False}}}),
            ("expansion pentium3", "query-cpu-model-expansion",
             {"type": "full", "model": {"name": "pentium3"}})]:
        print(f"  {accel}: {label:34s} {min(run(command, arguments) for _ in range(5)):6.2f} ms")
    qemu.stdin.write('{"execute": "quit"}\n')
    qemu.stdin.flush()
    qemu.wait()
PY
