"""The extraction child: given none of the parent's secrets, its stderr never buffered in the
worker, no file written, few descriptors, and its whole process group killed at the timeout."""

import json
import resource
import subprocess
import sys
import textwrap
import time

from files import extraction
from files.extraction import Limits, extract_bounded
from files.types import TEXT

SECRETS = {"DJANGO_SECRET_KEY": "s3cret-key", "DATABASE_URL": "postgres://u:pw@db/x", "OPENAI_API_KEY": "sk-x"}


def _answering(script: str):
    """A child command running ``script``, which prints the usual answer (one page of ``text``)."""
    return lambda path, content_type, limits: [sys.executable, "-c", textwrap.dedent(script)]


def test_the_child_sees_none_of_the_parents_secrets(monkeypatch, tmp_path):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        extraction,
        "_child_command",
        _answering("""
            import json, os
            print(json.dumps({"pages": [{"number": 1, "label": "", "text": json.dumps(dict(os.environ))}]}))
        """),
    )
    outcome = extract_bounded(str(tmp_path / "x.txt"), TEXT, Limits(timeout_seconds=30))
    seen = json.loads(outcome.pages[0].text)
    assert not set(SECRETS) & set(seen), seen
    assert seen["PYTHONPATH"] == str(extraction._PROJECT_ROOT)
    assert set(seen) <= {
        *extraction._CHILD_PASSED_VARIABLES,
        "PYTHONPATH",
        "PYTHONIOENCODING",
        "PYTHONDONTWRITEBYTECODE",
    }


def test_the_real_child_reads_a_file_with_only_that_environment(monkeypatch, tmp_path):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "memo.txt"
    path.write_bytes("회의는 화요일입니다.".encode("cp949"))
    outcome = extract_bounded(str(path), TEXT, Limits(timeout_seconds=30))
    assert outcome.error == "", outcome.detail
    assert outcome.pages[0].text == "회의는 화요일입니다."


def test_a_child_writing_lots_to_stderr_does_not_grow_the_worker(monkeypatch, tmp_path):
    monkeypatch.setattr(
        extraction,
        "_child_command",
        _answering("""
            import json, sys
            chunk = b"warning: broken object\\n" * (1024 * 1024 // 23)
            for _ in range(300):
                sys.stderr.buffer.write(chunk)
            print(json.dumps({"pages": [{"number": 1, "label": "", "text": "done"}]}))
        """),
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    outcome = extract_bounded(str(tmp_path / "x.txt"), TEXT, Limits(timeout_seconds=60))
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert outcome.pages[0].text == "done"
    assert grown < 64 * 1024, f"the worker's peak grew by {grown} KiB"  # 300 MiB went to stderr


def test_the_child_may_write_no_file_and_open_few(tmp_path):
    target = tmp_path / "written"
    script = f"""
        import json, os
        from files.extraction import Limits, _limit_self
        _limit_self(Limits())
        result = {{}}
        try:
            with open({str(target)!r}, "wb") as out:
                out.write(b"x" * 10)
            result["write"] = "written"
        except OSError as exc:
            result["write"] = exc.errno
        handles = []
        try:
            for _ in range(200):
                handles.append(open(os.devnull, "rb"))
        except OSError:
            pass
        result["opened"] = len(handles)
        print(json.dumps(result))
    """
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        cwd=extraction._PROJECT_ROOT,
        env=extraction.child_env(),
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["write"] != "written"
    assert target.stat().st_size == 0
    assert result["opened"] < extraction.CHILD_MAX_OPEN_FILES


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")  # a zombie has ended
    except FileNotFoundError:
        return True


def test_the_timeout_kills_what_the_child_started_too(monkeypatch, tmp_path):
    pid_file = tmp_path / "grandchild"
    monkeypatch.setattr(
        extraction,
        "_child_command",
        _answering(f"""
            import subprocess, time
            grandchild = subprocess.Popen(["sleep", "120"])
            open({str(pid_file)!r}, "w").write(str(grandchild.pid))
            time.sleep(120)
        """),
    )
    started = time.monotonic()
    outcome = extract_bounded(str(tmp_path / "x.txt"), TEXT, Limits(timeout_seconds=2))
    assert outcome.error == "timeout"
    assert time.monotonic() - started < 20
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while not _gone(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(grandchild), "the child's own child outlived the timeout"
