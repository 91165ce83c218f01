"""Hostile but well-formed ONNX graphs (fixtures/hostile, made by
scripts/make_hostile.py; issue 8): every tool must refuse them cleanly.

For each row of fixtures/hostile/index.json:

- `resnet-check shapes CASE`, `resnet-check run CASE` and
  `resnet-check run CASE --reference-kernels` end with an exit code from the
  row's expected set and, when they refuse, an error line naming the node, the
  operator or the input;
- `resnet-convert CASE out.rnw` leaves either a complete .rnw (exit 0) or an
  empty folder (non-zero exit: no output, no temporary);
- always: no signal (a trap is a crash, whatever the message), no hang
  (TIMEOUT seconds), peak RSS under 1 GB (the child is polled and killed past
  it; ru_maxrss from wait4 is checked too).

A summary (outcomes by exit code, crashes, worst time and RSS) is printed at
the end of the run; with HOSTILE_REPORT=FILE every invocation is also written
to FILE as JSON.
"""
import json
import os
import re
import resource
import signal
import subprocess
import tempfile
import time
import zlib
from collections import Counter, defaultdict

import pytest

from conftest import FIXTURES, tool

HOSTILE = os.path.join(FIXTURES, "hostile")
INDEX = json.load(open(os.path.join(HOSTILE, "index.json")))
CASES = INDEX["cases"]
TIMEOUT = 20.0
RSS_LIMIT = 1_000_000_000  # bytes: 1 GB
# A backstop for the shared machine: a child that maps more than this fails its
# allocation (and so traps, which the test reports as a crash) instead of
# swapping the machine to death between two RSS polls.
ADDRESS_SPACE_LIMIT = 16 << 30

RESULTS = []  # one dict per invocation, for the summary


class Outcome:
    def __init__(self, argv, returncode, seconds, maxrss, stdout, stderr, killed):
        self.argv, self.returncode, self.seconds = argv, returncode, seconds
        self.maxrss, self.stdout, self.stderr, self.killed = maxrss, stdout, stderr, killed

    @property
    def signal(self):
        """The signal that ended the child (directly, or as 128+N from a wrapper)."""
        if self.returncode < 0:
            return -self.returncode
        if self.returncode > 128 and self.returncode - 128 < signal.NSIG:
            return self.returncode - 128
        return None

    @property
    def text(self):
        return self.stdout + self.stderr

    def describe(self):
        tail = "\n".join(self.text.strip().splitlines()[-12:])
        return (f"$ {' '.join(self.argv)}\nexit {self.returncode}"
                + (f" ({signal.Signals(self.signal).name})" if self.signal else "")
                + (f", killed: {self.killed}" if self.killed else "")
                + f", {self.seconds:.2f} s, peak RSS {self.maxrss / 1e6:.0f} MB\n{tail}")


def _child_limits():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def _rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def launch(argv, cwd=None):
    """Runs argv with a timeout and an RSS watchdog; peak RSS from wait4."""
    env = dict(os.environ, NO_COLOR="1", TERM="dumb")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd, env=env,
                             preexec_fn=_child_limits)
        killed, delay = None, 0.001
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if killed is None:
                if _rss(p.pid) > RSS_LIMIT:
                    killed = "peak RSS over 1 GB"
                elif time.monotonic() - start > TIMEOUT:
                    killed = f"hang (over {TIMEOUT:.0f} s)"
                if killed:
                    os.kill(p.pid, signal.SIGKILL)
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
        seconds = time.monotonic() - start
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0), err.seek(0)
        return Outcome(argv, p.returncode, seconds, usage.ru_maxrss * 1024,
                       out.read().decode(errors="replace"), err.read().decode(errors="replace"), killed)


def record(case, what, o):
    RESULTS.append({"case": case["name"], "class": case["class"], "tool": what, "exit": o.returncode,
                    "signal": signal.Signals(o.signal).name if o.signal else None, "killed": o.killed,
                    "seconds": round(o.seconds, 3), "maxrss_bytes": o.maxrss})


def assert_clean(o):
    """No signal, no hang, under 1 GB."""
    assert not o.killed, f"{o.killed}\n{o.describe()}"
    assert o.signal is None, f"crashed with {signal.Signals(o.signal).name}\n{o.describe()}"
    assert o.maxrss < RSS_LIMIT, f"peak RSS {o.maxrss / 1e6:.0f} MB is over 1 GB\n{o.describe()}"


def error_lines(o):
    return [line for line in o.text.splitlines() if re.search(r"\berror\b", line, re.I)]


def assert_names_something(case, o):
    lines = error_lines(o)
    wanted = [m for m in case["mentions"] if m]
    assert any(m in line for line in lines for m in wanted), \
        f"no error line names any of {wanted}\n{o.describe()}"


def model(case):
    return os.path.join(HOSTILE, case["file"])


def ids(c):
    return c["name"]


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    """Registers a plugin that prints the summary in pytest's terminal summary."""
    plugin = _Summary()
    request.config.pluginmanager.register(plugin, "hostile-summary")
    yield


class _Summary:
    def pytest_terminal_summary(self, terminalreporter):
        if not RESULTS:
            return
        tr = terminalreporter
        tr.section("hostile ONNX models")
        cases = {r["case"] for r in RESULTS}
        tr.write_line(f"{len(cases)} cases ({len({r['class'] for r in RESULTS})} classes), {len(RESULTS)} invocations")
        by_tool = defaultdict(Counter)
        for r in RESULTS:
            key = f"signal {r['signal']}" if r["signal"] else ("killed: " + r["killed"]) if r["killed"] else f"exit {r['exit']}"
            by_tool[r["tool"]][key] += 1
        for what in sorted(by_tool):
            tr.write_line(f"  {what:22s} " + ", ".join(f"{k}: {n}" for k, n in sorted(by_tool[what].items())))
        slow = max(RESULTS, key=lambda r: r["seconds"])
        fat = max(RESULTS, key=lambda r: r["maxrss_bytes"])
        tr.write_line(f"  worst time: {slow['seconds']:.2f} s ({slow['case']}, {slow['tool']})")
        tr.write_line(f"  worst peak RSS: {fat['maxrss_bytes'] / 1e6:.1f} MB ({fat['case']}, {fat['tool']})")
        bad = [r for r in RESULTS if r["signal"] or r["killed"]]
        if bad:
            tr.write_line(f"  crashed or killed ({len(bad)}):")
            for r in bad:
                tr.write_line(f"    {r['case']:40s} {r['tool']:22s} {r['signal'] or r['killed']}")
        path = os.environ.get("HOSTILE_REPORT")
        if path:
            with open(path, "w") as f:
                json.dump(RESULTS, f, indent=1)
            tr.write_line(f"  every invocation: {path}")


def test_index_is_complete():
    """The table is what make_hostile.py writes: every file listed exists and is small."""
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)) and len(names) >= 80
    on_disk = {f for f in os.listdir(HOSTILE) if f.endswith(".onnx")}
    assert on_disk == {c["file"] for c in CASES}
    assert sum(os.path.getsize(os.path.join(HOSTILE, f)) for f in os.listdir(HOSTILE)) < 1 << 20


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_shapes(case):
    o = launch([tool("resnet-check"), "shapes", model(case)])
    record(case, "shapes", o)
    assert_clean(o)
    want = case["expect"]["shapes"]
    assert o.returncode in want["exit"], f"exit {o.returncode}, expected one of {want['exit']}\n{o.describe()}"
    codes = want.get("codes", [])
    if o.returncode == 1:
        coded = [line for line in error_lines(o) if any(c in line for c in codes)]
        assert coded, f"exit 1 without an error carrying any of {codes}\n{o.describe()}"
        assert_names_something(case, o)
    elif o.returncode == 2:
        assert_names_something(case, o)
    elif o.returncode == 0 and want.get("exit0_needs_code"):
        assert any(c in o.stdout for c in codes), f"exit 0 without a diagnostic carrying any of {codes}\n{o.describe()}"


@pytest.mark.parametrize("kernels", ["simd", "reference"])
@pytest.mark.parametrize("case", CASES, ids=ids)
def test_run(case, kernels):
    o = launch([tool("resnet-check"), "run", model(case)] + (["--reference-kernels"] if kernels == "reference" else []))
    record(case, f"run ({kernels})", o)
    assert_clean(o)
    want = case["expect"]["run"]
    assert o.returncode in want["exit"], f"exit {o.returncode}, expected one of {want['exit']}\n{o.describe()}"
    if o.returncode == 0:
        shape = want["output_shape"]
        assert f"hostile_out: shape {shape}" in o.stdout, f"ran, but not to the output shape {shape}\n{o.describe()}"
    else:
        assert_names_something(case, o)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_plan(case):
    """`plan` builds what `run` would run: it refuses what run refuses, and a plan it lists checks out."""
    o = launch([tool("resnet-check"), "plan", model(case)])
    record(case, "plan", o)
    assert_clean(o)
    want = case["expect"]["run"]
    assert o.returncode in want["exit"], f"exit {o.returncode}, expected one of {want['exit']}\n{o.describe()}"
    if o.returncode == 0:
        assert "check: consistent" in o.stdout, o.describe()
    else:
        assert_names_something(case, o)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_convert(case, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dest = out_dir / "out.rnw"
    o = launch([tool("resnet-convert"), model(case), str(dest)])
    record(case, "convert", o)
    assert_clean(o)
    want = case["expect"]["convert"]
    assert o.returncode in want["exit"], f"exit {o.returncode}, expected one of {want['exit']}\n{o.describe()}"
    left = sorted(os.listdir(out_dir))
    if o.returncode == 0:
        assert left == ["out.rnw"], f"converted, but the folder holds {left}\n{o.describe()}"
        data = dest.read_bytes()
        # Complete: magic, end magic, and the file CRC-32 over everything before the trailer (schemas/rnw.md).
        assert len(data) >= 80 and data[:8] == b"\x89RNW\r\n\x1a\n", "bad preamble"
        assert data[-8:] == b"RNWEND\r\n", "no end magic: the file is cut short"
        assert int.from_bytes(data[-16:-12], "little") == zlib.crc32(data[:-16]), "file CRC-32 does not match"
    else:
        assert left == [], f"exit {o.returncode} left {left} behind\n{o.describe()}"
        assert error_lines(o), f"exit {o.returncode} without an error line\n{o.describe()}"
