"""Memory as the Python peers of `vlp-bench` measure it, the same way as the Swift side: the
resident set now (/proc/self/statm) and the process's peak resident set (VmHWM in /proc/self/status)."""
import os


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_resident_bytes():
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024
