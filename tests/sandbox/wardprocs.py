"""The live processes running ward's binary: the sentry and its stubs.

Stubs are forks of ward, so their executable is ward's whatever their
command line (a stub unmaps its own). Zombies are dead and do not count.
The sandbox scripts use it to tell whether a stub outlived ward."""
import os


def live_wards(ward):
    exe = os.path.realpath(ward)
    found = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/exe" % pid) != exe:
                continue
            with open("/proc/%s/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            found.add(pid)
        except OSError:
            pass
    return found
