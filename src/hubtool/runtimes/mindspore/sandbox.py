"""The MindSpore worker's sandbox: runs INSIDE the worker (CPython 3.11, stdlib only), before anything else.

A checkpoint needs its network's Python code, often from the model's own repository: running it
is running untrusted code.  Linux namespaces cut the worker off without privileges: a network
namespace of its own (no interfaces but a down loopback: every connect fails), a mount namespace
in which every mount is remounted read-only (the repository, the store, the hub, the home folder),
except a private tmpfs on the worker's scratch folder, the home folder's credential stores (~/.aws,
~/.ssh, ~/.netrc...) hidden under empty mounts (what the code reads could leave in an error message,
and verdicts are published), then every capability dropped (so the code cannot remount anything
writable or unhide anything) and no_new_privs set.  Must run while the process has one thread:
unshare(CLONE_NEWUSER) refuses a multi-threaded process, and importing MindSpore starts threads.
"""

import ctypes
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
_FLAG_OPTIONS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}
PR_SET_NO_NEW_PRIVS = 38
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
SCRATCH_BYTES = 256 * 1024 * 1024
#: where credentials live in a home folder: hidden under an empty read-only tmpfs, because what the code
#: reads could leave in an error message (the verdict is published); the runtime env may live in ~/.cache
SECRETS = (".aws", ".ssh", ".gnupg", ".config", ".docker", ".kube", ".azure", ".netrc", ".git-credentials",
           ".pypirc", ".npmrc", ".boto", ".s3cfg", ".password-store", ".local/share/keyrings")


class SandboxError(Exception):
    pass


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        raise SandboxError("%s: %s" % (what, os.strerror(ctypes.get_errno())))


def _write(path, text):
    with open(path, "w") as fh:
        fh.write(text)


def _unshare(libc):
    """New mount and network namespaces; a user namespace too (needed without root, harmless with it)."""
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) == 0:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", "%d %d 1" % (uid, uid))
        _write("/proc/self/gid_map", "%d %d 1" % (gid, gid))
        return "user, mount, network"
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    return "mount, network"


def _mount(libc, source, target, fstype, flags, data=None):
    return libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                      ctypes.c_ulong(flags), data)


def _mount_points():
    """(mount point, per-mount options) of every mount, outermost first (/proc/self/mountinfo)."""
    points = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            # mount points are octal-escaped (\040 for a space)
            point = fields[4].encode().decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
            points.append((point, fields[5].split(",")))
    return points


def _read_only(libc, scratch):
    _check(_mount(libc, None, "/", None, MS_REC | MS_PRIVATE), "making mounts private")
    _check(_mount(libc, "hubtool-scratch", scratch, "tmpfs", MS_NOSUID | MS_NODEV,
                  ("size=%d,mode=700" % SCRATCH_BYTES).encode()), "mounting the scratch tmpfs")
    kept = 0
    for point, options in _mount_points():
        if point == scratch or point == "/proc" or point.startswith("/proc/"):
            continue  # the scratch stays writable; procfs refuses a bind remount and holds no files
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for name, bit in _FLAG_OPTIONS.items():
            flags |= bit if name in options else 0  # a remount may not clear a locked flag
        if _mount(libc, None, point, None, flags) != 0:
            kept += 1
    if kept:
        raise SandboxError("%d mounts could not be made read-only" % kept)


def _homes():
    import pwd

    found = {os.environ.get("HOME", "")}
    try:
        found.add(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        pass
    return sorted(h for h in found if h and h != "/" and os.path.isdir(h))


def _hide_secrets(libc):
    """An empty read-only tmpfs over each credential folder (a file: /dev/null bound over it)."""
    hidden = []
    for home in _homes():
        for name in SECRETS:
            path = os.path.join(home, name)
            if os.path.isdir(path) and not os.path.islink(path):
                ok = _mount(libc, "hubtool-hidden", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k")
            elif os.path.isfile(path) and not os.path.islink(path):
                ok = _mount(libc, "/dev/null", path, None, MS_BIND)
            else:
                continue
            if ok != 0:
                raise SandboxError("%s could not be hidden: %s" % (path, os.strerror(ctypes.get_errno())))
            hidden.append(path)
    return hidden


def _drop_capabilities(libc):
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    data = (Data * 2)()
    _check(libc.capset(ctypes.byref(Header(_LINUX_CAPABILITY_VERSION_3, 0)), data), "dropping capabilities")


def enter(scratch):
    """Enter the sandbox; returns what it is, or raises SandboxError (the process is then unchanged
    or only partly confined: the caller reports it as not sandboxed)."""
    libc = _libc()
    namespaces = _unshare(libc)
    _read_only(libc, os.path.realpath(scratch))
    hidden = _hide_secrets(libc)
    _drop_capabilities(libc)
    return {"active": True, "namespaces": namespaces, "network": "none",
            "filesystem": "read-only but a %d MiB scratch tmpfs" % (SCRATCH_BYTES >> 20), "hidden": hidden}
