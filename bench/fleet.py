#!/usr/bin/env python3
"""bench/fleet.py PROFILE DIR N KINDS — writes N profiles into DIR as a fleet's would be:
one file per host, each naming its own host and date, of KINDS kinds (hosts of one kind
differ in those alone; kinds differ in a byte past the header, in the QEMU binary's path,
so that each kind is read and answered on its own)."""
import os
import re
import sys


def main():
    source, directory, count, kinds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(source, encoding="utf-8") as f:
        text = f.read()
    host = re.search(r'"host":\{"name":"[^"]*"', text)
    made = re.search(r'"made":"[^"]*"', text)
    binary = re.search(r'"binary":"', text)
    if not (host and made and binary) or not host.start() < made.start() < binary.start():
        sys.exit(f"bench/fleet.py: {source}: not a profile as `vcpuprobe profile` writes it")
    os.makedirs(directory, exist_ok=True)
    for i in range(count):
        kind = i % kinds
        name = f"host-{i:04d}"
        pieces = [text[:host.start()], f'"host":{{"name":"{name}"',
                  text[host.end():made.start()], f'"made":"2026-{i % 12 + 1:02d}-01T00:00:00Z"',
                  text[made.end():binary.end()], f"/kind{kind}" if kind else "",
                  text[binary.end():]]
        with open(os.path.join(directory, f"{name}.json"), "w", encoding="utf-8") as f:
            f.write("".join(pieces))


if __name__ == "__main__":
    main()
