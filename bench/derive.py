#!/usr/bin/env python3
"""bench/derive.py — turns one real vcpuprobe run into the floor of a scenario.

    derive.py OUTDIR NAME VCPUPROBE [ARGS...]

Runs `VCPUPROBE ARGS --debug --record OUTDIR/NAME.rec` once and reads two things it leaves:

  * the --debug trace on stderr: every message sent (`-> {json}`, byte for byte what went to
    QEMU) and every message read (`<- {json}`), in the order the client did them, but with the
    sessions of QEMUs run in parallel interleaved and not labelled (and a long line now and
    then cut by another session's line: parse_trace() mends those);
  * the recording NAME.rec(.json): one segment per QEMU session (greeting, then each command
    and its reply), and each session's QEMU argv in the .json "sessions" list.

The recording says which command belongs to which QEMU; the trace gives the exact bytes and
the order of sends and reads. Every trace line is assigned to the one recorded session it can
belong to (a sent line must be that session's next recorded command, a reply must answer one
of its outstanding ids; while two sessions are still alike every assignment is kept and the
wrong ones die out). Then, per session:

  * OUTDIR/NAME.<i>.qmp — the floor's command file: the sent lines, in order, verbatim (ids
    included). A session vcpuprobe ends without a quit it could deliver (the baseline QEMU is
    killed, see README) gets {"execute":"quit"} appended, since a QEMU reading a file needs one
    to exit; that makes the floor a little slower, never faster;
  * round trips after negotiation: the number of times the client, having sent one or more
    commands, stops to read a reply. Commands written back to back before the next read (a
    pipelined batch) count as one. qmp_capabilities is the negotiation and is not counted; the
    final quit is a round trip and is counted (reported separately too).

Prints one JSON object on stdout: exit status, the floor's shell command (the sessions' QEMUs
started together and waited for, as vcpuprobe runs them) and per-session details.
"""
import json
import shlex
import subprocess
import sys


def read_recording(path):
    """Segments of a .replies file: each a list of JSON objects, a greeting starting one."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    decoder = json.JSONDecoder()
    objects, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        obj, pos = decoder.raw_decode(text, pos)
        objects.append(obj)
    segments = []
    for obj in objects:
        if "QMP" in obj or not segments:
            segments.append([])
        segments[-1].append(obj)
    return [[o for o in seg if "execute" in o] for seg in segments]


PREFIXES = ("-> {", "<- {")


def parse_whole(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def event(direction, raw):
    msg = json.loads(raw)
    if direction == "->":
        return ("send", raw, msg)
    kind = "greeting" if "QMP" in msg else "reply" if "id" in msg else "event"
    return (kind, raw, msg)


def split_insert(line):
    """A whole trace line written into the middle of this one: (before, direction, raw)."""
    for pos in sorted((i for p in PREFIXES for i in [line.rfind(p, 1)] if i > 0), reverse=True):
        if parse_whole(line[pos + 3:]) is not None:
            return line[:pos], line[pos:pos + 2], line[pos + 3:]
    return line, None, None


def parse_trace(stderr):
    """Messages of a --debug trace, in order. While parallel sessions print, a long line can
    be cut (stderr writes it in pieces of about 8 KiB) by a whole line of another session;
    the cut line continues on the next line. Both are put back together here."""
    trace, pending, direction = [], None, None
    for line in stderr.splitlines():
        if pending is None:
            if not line.startswith(PREFIXES):
                continue
            if parse_whole(line[3:]) is not None:
                trace.append(event(line[:2], line[3:]))
                continue
            direction = line[:2]
            pending, inserted, raw = split_insert(line[3:])
        else:
            if parse_whole(pending + line) is not None:
                trace.append(event(direction, pending + line))
                pending = None
                continue
            before, inserted, raw = split_insert(line)
            pending += before
        if inserted is not None:
            trace.append(event(inserted, raw))
        if parse_whole(pending) is not None:
            trace.append(event(direction, pending))
            pending = None
    if pending is not None:
        raise SystemExit("derive: a --debug trace line never completed: " + pending[:120])
    return trace


def assign(trace, recorded):
    """Assigns each trace line to a recorded session; returns per-session event lists."""
    n = len(recorded)
    # A hypothesis: per session (greeted, next command index, outstanding ids, events).
    start = tuple((False, 0, frozenset(), ()) for _ in range(n))
    hypotheses = {start}
    for kind, raw, msg in trace:
        following = set()
        for hyp in hypotheses:
            for i, (greeted, nxt, outstanding, events) in enumerate(hyp):
                if kind == "greeting":
                    if greeted:
                        continue
                    new = (True, nxt, outstanding, events)
                elif kind == "send":
                    if (not greeted or nxt >= len(recorded[i])
                            or recorded[i][nxt] != msg):
                        continue
                    new = (True, nxt + 1, outstanding | {msg.get("id")},
                           events + (("send", raw),))
                elif kind == "reply":
                    if msg.get("id") not in outstanding:
                        continue
                    new = (True, nxt, outstanding - {msg.get("id")},
                           events + (("reply", msg.get("id")),))
                else:  # events and end of stream do not change what is counted
                    new = None
                if new is None:
                    following.add(hyp)
                    break
                following.add(hyp[:i] + (new,) + hyp[i + 1:])
        if not following:
            raise SystemExit(f"derive: trace line matches no recorded session: {raw[:120]}")
        hypotheses = following
    complete = [h for h in hypotheses if all(s[1] == len(recorded[i]) for i, s in enumerate(h))]
    if not complete:
        raise SystemExit("derive: the trace does not account for every recorded command")
    return [s[3] for s in sorted(complete)[0]]


def round_trips(events):
    """Waits for replies after negotiation: runs of sends, each ended by a read."""
    trips, in_run, names = [], False, []
    for kind, payload in events:
        if kind == "send":
            names.append(json.loads(payload)["execute"])
            in_run = True
        elif in_run:
            trips.append(names)
            names, in_run = [], False
    if names:
        trips.append(names)      # sent, never answered (QEMU gone)
    after = [t for t in trips if t != ["qmp_capabilities"]]
    return after


def main():
    outdir, name, vcpuprobe, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    rec = f"{outdir}/{name}.rec"
    run = subprocess.run([vcpuprobe, *args, "--debug", "--record", rec],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    trace = parse_trace(run.stderr)
    recorded = read_recording(rec)
    with open(rec + ".json", encoding="utf-8") as f:
        launches = json.load(f)["sessions"]
    if len(launches) != len(recorded):
        raise SystemExit(f"derive: {len(recorded)} recorded segments, {len(launches)} launches")
    per_session = assign(trace, recorded)

    sessions, parts = [], []
    for i, (launch, events) in enumerate(zip(launches, per_session)):
        sent = [payload for kind, payload in events if kind == "send"]
        appended = not any(json.loads(s)["execute"] == "quit" for s in sent)
        path = f"{outdir}/{name}.{i}.qmp"
        with open(path, "w", encoding="utf-8") as f:
            for line in sent:
                f.write(line + "\n")
            if appended:
                f.write('{"execute":"quit"}\n')
        trips = round_trips(events)
        sessions.append({
            "accel": launch.get("accel"), "machine": launch.get("machine"),
            "cpu": launch.get("cpu"), "argv": launch["argv"], "file": path,
            "commands": [json.loads(s)["execute"] for s in sent],
            "quit_appended": appended,
            "round_trips": len(trips),
            "round_trips_without_quit": len([t for t in trips if t != ["quit"]]),
            "batches": trips,
        })
        parts.append(f"{shlex.join(launch['argv'])} < {shlex.quote(path)} >/dev/null 2>&1")
    if len(parts) == 1:
        script = "exec " + parts[0]
    else:
        script = " & ".join(parts) + " & wait"
    print(json.dumps({"name": name, "args": args, "exit": run.returncode,
                      "floor": "sh -c " + shlex.quote(script), "sessions": sessions}))


if __name__ == "__main__":
    main()
