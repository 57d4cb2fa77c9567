#!/usr/bin/env python3
# CPU time by process for one Pulumi command: runs it, sampling /proc every 50 ms, and prints for the
# command and its descendants the CPU seconds (utime + stime) of each role: the engine (`pulumi`),
# the language host, the program, the dynamic-provider host or the provider plugin; and what each
# one's reaped children used (cutime + cstime: for the provider, its `ip` and `iptables` commands).
#
# In the sandbox, in a project of test/bench/program (config n = 200) with an `up0` link:
#   python3 test/bench/cpu-split.py pulumi up --yes --skip-preview --non-interactive
# A process that lives less than 50 ms between samples is counted only in its parent's children.
import os, subprocess, sys, time
hz = os.sysconf("SC_CLK_TCK")
seen = {}
def role(cmd):
    if "dynamic-provider" in cmd: return "provider host (node dynamic-provider)"
    if "plugin/main.js" in cmd or "pulumi-resource-netns" in cmd: return "provider plugin (node)"
    if "pulumi-language-" in cmd: return "language host (" + cmd.split("\0")[0].rsplit("/", 1)[-1] + ")"
    if "cmd/run" in cmd: return "program (node)"
    if cmd.split("\0")[0].endswith("pulumi"): return "engine (pulumi)"
    return "other: " + os.path.basename(cmd.split("\0")[0])
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
root = str(p.pid)
start = time.time()
while p.poll() is None:
    procs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit(): continue
        try:
            with open(f"/proc/{pid}/stat") as f: st = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline") as f: cmd = f.read()
        except OSError: continue
        procs[pid] = (st[1], cmd, (int(st[11]) + int(st[12])) / hz, (int(st[13]) + int(st[14])) / hz)
    def descends(pid):
        for _ in range(50):
            if pid == root: return True
            if pid not in procs: return False
            pid = procs[pid][0]
        return False
    for pid, (ppid, cmd, own, kids) in procs.items():
        if descends(pid): seen[pid] = (cmd, own, kids)
    time.sleep(0.05)
wall = time.time() - start
tot = {}
for pid, (cmd, own, kids) in seen.items():
    r = role(cmd)
    o, k = tot.get(r, (0, 0))
    tot[r] = (o + own, k + kids)
print(f"wall {wall:.2f} s, exit {p.returncode}")
for r, (o, k) in sorted(tot.items(), key=lambda x: -x[1][0]): print(f"  {o:7.2f} CPU-s  {r}" + (f" (+{k:.2f} CPU-s in the commands it ran)" if k >= 0.01 else ""))
