"""The command line: defaults, exit codes, messages on stderr, never a traceback."""

from __future__ import annotations

import dataclasses
import multiprocessing
import multiprocessing.pool
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE, BuildOptions
from generator.base.report import BuildReport
from generator.build import build
from generator.cli import build as build_command
from generator.cli import main as cli
from generator.kinds.registry import BUILT_IN
from generator.output import pool
from tests.conftest import EXAMPLE, ROOT, profile, write_site

COMMANDS = ("build", "new", "check", "serve", "compile", "edition", "import")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a ``showcase`` started by a test: this checkout's package first."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def python(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Python run with ``args`` in ``cwd`` (``env`` added to the ``child_env``), to the end."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=child_env(**env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return python(["-m", "generator", *args], cwd)


def test_build_without_arguments_uses_site_content_and_public(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "site_content")
    result = run(["build"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "public/index.html").is_file()
    # the pages counted are the HTML pages; the files, everything written
    out = [p for p in (tmp_path / "public").rglob("*") if p.is_file() and p.name[0] != "."]
    html = sum(p.suffix == ".html" for p in out)
    assert f"已生成{html}个页面" in result.stdout and f"共{len(out)}个文件" in result.stdout
    assert html < len(out)
    quiet = run(["build", "--quiet"], tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_content_errors_exit_1_with_every_error_on_stderr(tmp_path: Path) -> None:
    write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(unit="nowhere"),
            "profiles/2025/b.md": profile(name="李华", extra="year: 2024\n"),
        },
    )
    result = run(["build", "src", "-o", "out"], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "profiles/2025/a.md:3: 错误: 字段 unit：" in result.stderr
    assert "profiles/2025/b.md:6: 错误: 字段 year：" in result.stderr
    assert "共2个错误" in result.stderr
    assert not (tmp_path / "out").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(["build", "--no-such-option"], tmp_path).returncode == 2
    missing = run(["build", "nowhere"], tmp_path)
    assert missing.returncode == 2
    assert "找不到网站目录" in missing.stderr and "Traceback" not in missing.stderr
    assert "showcase build 网站目录" in missing.stderr
    assert run([], tmp_path).returncode == 2
    for given in ("-1", "abc"):  # 0 is one process per core
        refused = run(["build", "nowhere", "-j", given], tmp_path)
        assert refused.returncode == 2 and f"“{given}”不是进程数" in refused.stderr


def test_each_command_names_itself_when_the_folder_is_missing(tmp_path: Path) -> None:
    for command, shown in (("serve", "serve"), ("daemon", "daemon")):
        said = run([command, "nowhere"], tmp_path)
        assert said.returncode == 2, said.stderr
        assert f"showcase {shown} 网站目录" in said.stderr


def test_a_folder_without_site_yaml_is_refused_before_any_cache(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("# 笔记\n", encoding="utf-8")
    said = run(["build", "notes", "-o", "out"], tmp_path)
    assert said.returncode == 2 and "Traceback" not in said.stderr
    assert "不是网站目录" in said.stderr and "site.yaml" in said.stderr
    assert sorted(p.name for p in (tmp_path / "notes").iterdir()) == ["a.md"]
    assert not (tmp_path / "out").exists()


def test_a_build_that_only_takes_files_out_says_so(tmp_path: Path) -> None:
    write_site(
        tmp_path / "src", {"profiles/2025/a.md": profile(), "static/robots.txt": "User-agent: *\n"}
    )
    assert run(["build", "src", "-o", "out"], tmp_path).returncode == 0
    assert (tmp_path / "out" / "static" / "robots.txt").is_file()
    (tmp_path / "src" / "static" / "robots.txt").unlink()
    said = run(["build", "src", "-o", "out"], tmp_path)
    assert said.returncode == 0, said.stderr
    assert "删除1个不再需要的文件" in said.stdout and "内容没有变化" not in said.stdout
    assert not (tmp_path / "out" / "static" / "robots.txt").exists()
    again = run(["build", "src", "-o", "out"], tmp_path)
    assert "内容没有变化" in again.stdout


def test_drafts_flag_includes_drafts(tmp_path: Path) -> None:
    write_site(tmp_path / "src", {"profiles/2025/a.md": profile(extra="draft: true\n")})
    assert run(["build", "src", "-o", "out"], tmp_path).returncode == 0
    assert not (tmp_path / "out/profiles/2025/wang-jin-xi").exists()
    assert run(["build", "src", "-o", "out", "--drafts"], tmp_path).returncode == 0
    html = (tmp_path / "out/profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert "badge-draft" in html


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    write_site(tmp_path / "src", {"profiles/2025/a.md": profile(extra="unti: x\n")})
    loose = run(["build", "src", "-o", "out"], tmp_path)
    assert loose.returncode == 0 and "警告" in loose.stderr
    assert run(["build", "src", "-o", "out", "--strict"], tmp_path).returncode == 1
    # -q shows errors only; with --strict the warning is what failed, so it is shown
    quiet = run(["build", "src", "-o", "out", "--strict", "-q"], tmp_path)
    assert quiet.returncode == 1 and "unti" in quiet.stderr
    assert "unti" not in run(["build", "src", "-o", "out", "-q"], tmp_path).stderr


def _flat(text: str) -> str:
    """The text without white space (help output is wrapped to the terminal's width)."""
    return "".join(text.split())


def test_help_of_showcase_lists_every_command(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith(messages.text(DEFAULT_LANGUAGE, "cli-usage") + "showcase")
    for command in COMMANDS:
        assert command in result.stdout
        assert _flat(messages.text(DEFAULT_LANGUAGE, f"cli-{command}")) in _flat(result.stdout)


@pytest.mark.parametrize(
    "argv",
    [[command, "--help"] for command in COMMANDS]
    + [["new", kind.name, "--help"] for kind in BUILT_IN],
    ids=" ".join,
)
def test_help_of_every_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 0
    shown = capsys.readouterr()
    assert shown.err == ""
    usage = messages.text(DEFAULT_LANGUAGE, "cli-usage")
    assert shown.out.startswith(f"{usage}showcase {' '.join(argv[:-1])}")
    code = "cli-" + "-".join(argv[:-1])  # cli-build, cli-new-profile ...
    assert _flat(messages.text(DEFAULT_LANGUAGE, code)) in _flat(shown.out)
    for english in ARGPARSE_ENGLISH:
        assert english not in shown.out
    if argv != ["new", "--help"]:  # new alone only lists the kinds
        assert "-v, --verbose" in shown.out and "-q, --quiet" in shown.out


ARGPARSE_ENGLISH = ("usage:", "options:", "positional arguments", "show this help", "error:")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["build", "--bogus"], "不认识的参数：--bogus"),
        (["check", "--format", "xml"], "--format 不能是“xml”"),
        (["compile", "abc"], "的值“abc”无效，应为数字"),
        (["edition"], "缺少必填的参数"),
        (["nope"], "不能是“nope”"),
        (["build", "-o"], "-o/--output 后面要写一个值"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_usage_errors_are_worded_by_the_catalog(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "--help 查看用法" in err
    for english in ARGPARSE_ENGLISH:
        assert english not in err


def test_quiet_prints_only_what_fails(tmp_path: Path) -> None:
    write_site(tmp_path / "src", {"profiles/2025/a.md": profile(extra="unti: x\n")})
    loud = run(["check", "src"], tmp_path)
    assert "警告" in loud.stdout and "检查完毕" in loud.stdout
    quiet = run(["check", "src", "-q"], tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    strict = run(["check", "src", "-q", "--strict"], tmp_path)
    assert strict.returncode == 1 and "unti" in strict.stdout and "检查完毕" not in strict.stdout
    created = run(["new", "page", "--title", "评选办法", "--source", "src", "-q"], tmp_path)
    assert created.returncode == 0 and created.stdout == ""
    assert (tmp_path / "src/pages/ping-xuan-ban-fa.md").is_file()


def test_verbose_shows_the_parser_s_words(tmp_path: Path) -> None:
    write_site(tmp_path / "src", {"profiles/2025/a.md": profile(extra="position：技师\n")})
    plain = run(["check", "src"], tmp_path)
    assert "中文冒号" in plain.stdout and "could not find" not in plain.stdout
    verbose = run(["check", "src", "--verbose"], tmp_path)
    assert "中文冒号" in verbose.stdout and "解析器原文：" in verbose.stdout


def test_one_shape_from_the_repository_root_or_inside_the_source(tmp_path: Path) -> None:
    write_site(tmp_path / "site_content", {"profiles/2025/a.md": profile(unit="nowhere")})
    root = run(["check"], tmp_path)
    assert root.returncode == 1 and "site_content/profiles/2025/a.md:3: 错误" in root.stdout
    inside = tmp_path / "site_content"
    here = run(["check"], inside)  # site.yaml in the current folder: it is the source
    assert here.returncode == 1 and "\nprofiles/2025/a.md:3: 错误" in "\n" + here.stdout
    (inside / "profiles/2025/a.md").write_text(profile(), encoding="utf-8")
    created = run(["new", "page", "--title", "评选办法"], inside)
    assert created.returncode == 0, created.stderr
    assert "已创建 pages/ping-xuan-ban-fa.md" in created.stdout
    assert "运行 showcase serve 预览" in created.stdout
    positional = run(["new", "page", "site_content", "--title", "关于"], tmp_path)
    assert "已创建 site_content/pages/guan-yu.md" in positional.stdout, positional.stderr
    built = run(["build"], inside)  # the output goes next to the source, never inside it
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "public/index.html").is_file() and not (inside / "public").exists()


def test_a_build_with_nothing_to_do_says_so(tmp_path: Path) -> None:
    write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    first = run(["build", "src", "-o", "out"], tmp_path)
    assert first.returncode == 0 and "已生成" in first.stdout and "没有变化" not in first.stdout
    again = run(["build", "src", "-o", "out"], tmp_path)
    assert again.returncode == 0 and "内容没有变化" in again.stdout
    assert "已生成0个页面" not in again.stdout and "网站现有1名先进典型" in again.stdout


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_last_line_of_a_build_gives_the_site_totals_apart_from_what_it_made(
    language: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The counts of documents are the site's, said in a sentence of their own after what
    the build made, not next to its pages as if those held them."""
    counts = {"profiles": 3000, "reports": 1250, "pledges": 750}
    done = BuildReport(True, (), pages=11, html=11, files=17, language=language, counts=counts)
    unchanged = dataclasses.replace(done, pages=0, html=0, files=0)
    removed = dataclasses.replace(unchanged, removed=2)
    totals = {
        "zh-CN": "网站现有3000名先进典型、1250篇经验交流材料、750份支部承诺书。",
        "en": "The site now has 3000 model workers, 1250 experience reports and 750 pledges.",
    }
    for report in (done, unchanged, removed):
        build_command.print_done(report, "public")
        line = capsys.readouterr().out.strip()
        made, _, after = line.partition(totals[language])
        assert after == "" and made.endswith(("。", ". ")), line  # the totals end the line
        assert "3000" not in made and "（" not in made and "(" not in made, line


def test_a_site_with_warnings_is_up_to_date_too_and_shows_them_again(tmp_path: Path) -> None:
    # an empty body is a warning: the second build finds nothing changed and says it again
    write_site(tmp_path / "src", {"profiles/2025/a.md": profile(body="")})
    first = run(["build", "src", "-o", "out"], tmp_path)
    assert first.returncode == 0 and "已生成" in first.stdout
    assert _loaded_after(["build", "src", "-o", "out"], tmp_path) == []
    again = run(["build", "src", "-o", "out"], tmp_path)
    assert again.returncode == 0 and "内容没有变化" in again.stdout
    assert again.stderr == first.stderr and "a.md" in again.stderr


RENDERING_STACK = ("generator.build", "jinja2", "markdown", "PIL", "generator.site.model")


def _loaded_after(args: list[str], cwd: Path) -> list[str]:
    """The modules of the rendering stack that running ``args`` imported."""
    script = (
        "import sys\nfrom generator.cli.main import main\n"
        f"code = main({args!r})\n"
        f"print(code, [m for m in {RENDERING_STACK!r} if m in sys.modules])\n"
    )
    env = child_env()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    code, loaded = done.stdout.strip().splitlines()[-1].split(" ", 1)
    assert code == "0", done.stderr
    return [m.strip(" '[]") for m in loaded.split(",") if m.strip(" '[]")]


def test_an_up_to_date_build_ends_before_importing_the_rendering_stack(tmp_path: Path) -> None:
    write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    assert _loaded_after(["build", "src", "-o", "out"], tmp_path) == list(RENDERING_STACK)
    assert _loaded_after(["build", "src", "-o", "out"], tmp_path) == []
    (tmp_path / "src/profiles/2025/a.md").write_text(profile(body="改了。"), encoding="utf-8")
    assert "generator.build" in _loaded_after(["build", "src", "-o", "out"], tmp_path)


def test_the_command_exits_without_teardown_but_runs_the_exit_handlers(tmp_path: Path) -> None:
    """``run`` leaves by ``os._exit`` with main's code, after the exit handlers (temporary
    folders, worker processes) and with what was printed flushed."""
    script = (
        "import atexit, sys\n"
        "from generator.cli import main\n"
        "atexit.register(lambda: print('handler ran'))\n"
        "sys.argv = ['showcase', 'build', 'missing-folder']\n"
        "print('before', end='')\n"
        "main.run()\n"
        "print('never')\n"
    )
    result = python(["-c", script], tmp_path, PYTHONUNBUFFERED="")
    assert result.returncode == cli.main(["build", str(tmp_path / "missing-folder")]) != 0
    assert result.stdout == "beforehandler ran\n"
    assert "missing-folder" in result.stderr and "Traceback" not in result.stderr


def test_a_closed_pipe_at_exit_is_no_traceback(tmp_path: Path) -> None:
    """``showcase build | head -1`` closing early: what cannot be printed is dropped."""
    write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    env = child_env(PYTHONUNBUFFERED="")
    with subprocess.Popen(
        [sys.executable, "-m", "generator", "build", "src", "-o", "out"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # before the build prints its summary
        errors = process.stderr.read().decode("utf-8")
        assert process.wait() == 0
    assert "Traceback" not in errors and (tmp_path / "out/index.html").is_file()


def _catalog_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The catalogs copied to ``tmp_path``, read from there (none parsed yet)."""
    folder = tmp_path / "catalog"
    shutil.copytree(messages.CATALOG_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(messages, "CATALOG_DIR", folder)
    monkeypatch.setattr(messages, "PARSED_DIR", folder / "__pycache__")
    messages.catalog.cache_clear()
    return folder


def test_the_parsed_catalog_is_kept_and_follows_every_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _catalog_copy(tmp_path, monkeypatch)
    try:
        first = messages.catalog("zh-CN")
        kept = sorted((folder / "__pycache__").glob("zh-CN.*.json"))
        assert len(kept) == 1
        messages.catalog.cache_clear()
        with monkeypatch.context() as patched:
            patched.setattr(messages, "_parse", lambda texts: pytest.fail("parsed again"))
            assert messages.catalog("zh-CN") == first  # read from the kept file
        topic = folder / "zh-CN.serve.yaml"
        added = "\nnew-code:\n  message: 新的说法\n"
        topic.write_text(topic.read_text("utf-8") + added, encoding="utf-8")
        messages.catalog.cache_clear()
        assert messages.text("zh-CN", "new-code") == "新的说法"
        now = sorted((folder / "__pycache__").glob("zh-CN.*.json"))
        assert len(now) == 1 and now != kept  # the older parsed version is gone
    finally:
        messages.catalog.cache_clear()


def test_catalogs_are_read_where_the_parsed_copy_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _catalog_copy(tmp_path, monkeypatch)
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    monkeypatch.setattr(messages, "PARSED_DIR", tmp_path / "a-file" / "__pycache__")
    try:
        assert messages.text("zh-CN", "build-interrupted")
        assert not (folder / "__pycache__").exists()
    finally:
        messages.catalog.cache_clear()


def test_a_command_reads_the_parsed_catalog_without_yaml(tmp_path: Path) -> None:
    """The catalogs were parsed by an earlier command: the next one starts without importing
    YAML (each command here reads a copy of the catalogs in ``tmp_path``)."""
    folder = tmp_path / "catalog"
    shutil.copytree(messages.CATALOG_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        "import sys; from pathlib import Path; from generator.base import messages; "
        f"messages.CATALOG_DIR = Path({str(folder)!r}); "
        "messages.PARSED_DIR = messages.CATALOG_DIR / '__pycache__'; "
        "messages.catalog('zh-CN'); print('yaml' in sys.modules)"
    )
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, cwd=ROOT, check=True, capture_output=True, text=True)
    assert first.stdout.strip() == "True"
    done = subprocess.run(run, cwd=ROOT, check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "False"


def test_a_catalog_json_would_not_give_back_is_parsed_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _catalog_copy(tmp_path, monkeypatch)
    topic = folder / "zh-CN.serve.yaml"
    topic.write_text(topic.read_text("utf-8") + "\nodd-code:\n  message: 1\n", encoding="utf-8")
    try:
        assert messages.catalog("zh-CN")["odd-code"] == {"message": 1}
        assert not list((folder / "__pycache__").glob("*.json"))
    finally:
        messages.catalog.cache_clear()


def _hint_site(tmp_path: Path) -> tuple[Path, Path]:
    source = write_site(tmp_path / "site", {"profiles/2025/a.md": profile(body="第一版。")})
    return source, tmp_path / "out"


def test_a_slow_build_made_again_here_suggests_the_daemon_once_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from generator.cli import build as build_cli

    source, out = _hint_site(tmp_path)
    monkeypatch.setattr(build_cli, "HINT_SECONDS", 0.0)  # every build is "slow" here
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    hint = messages.text(DEFAULT_LANGUAGE, "build-daemon-hint", command="", seconds="0.0")
    start = hint.split("0.0")[0]
    argv = ["build", str(source), "-o", str(out)]
    assert cli.main(argv) == 0  # the first build of the output: no hint
    assert start not in capsys.readouterr().err
    (source / "profiles/2025/a.md").write_text(profile(body="第二版。"), encoding="utf-8")
    assert cli.main(argv) == 0
    said = capsys.readouterr().err
    # the build went into -o: the daemon suggested builds there too
    assert start in said and f"showcase daemon {source} -o {out}" in said
    (source / "profiles/2025/a.md").write_text(profile(body="第三版。"), encoding="utf-8")
    assert cli.main(argv) == 0  # shown today already
    assert start not in capsys.readouterr().err


def test_the_daemon_is_not_suggested_to_scripts_quick_or_handed_builds(tmp_path: Path) -> None:
    from generator.base.report import BuildReport
    from generator.cli.build import HINT_FILE, daemon_command, daemon_hint

    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    slow = BuildReport(ok=True, diagnostics=(), pages=3, seconds=5.0)
    assert not daemon_hint(slow, True, cache_dir, tty=False)  # a script or a CI log
    assert not daemon_hint(slow, False, cache_dir, tty=True)  # a first build
    assert not daemon_hint(slow, True, None, tty=True)  # --no-cache
    quick = BuildReport(ok=True, diagnostics=(), pages=3, seconds=0.2)
    assert not daemon_hint(quick, True, cache_dir, tty=True)
    handed = BuildReport(ok=True, diagnostics=(), pages=3, seconds=5.0, handed=True)
    assert not daemon_hint(handed, True, cache_dir, tty=True)
    assert not (cache_dir / HINT_FILE).exists()
    assert daemon_hint(slow, True, cache_dir, tty=True)
    assert (cache_dir / HINT_FILE).exists()
    os.utime(cache_dir / HINT_FILE, (0, 0))  # shown long ago
    assert daemon_hint(slow, True, cache_dir, tty=True)
    assert not daemon_hint(slow, True, tmp_path / "missing" / "cache", tty=True)  # not kept
    # the command names the cache when it is not the site's own, the output when it is not
    # the site's default (``public`` beside it, however it is written)
    source = tmp_path / "site"
    public = tmp_path / "public"
    own = source / ".showcase-cache"
    assert daemon_command(source, own, public) == f"showcase daemon {source}"
    assert daemon_command(source, own, source / ".." / "public") == f"showcase daemon {source}"
    assert daemon_command(source, cache_dir, public).endswith(f" --cache-dir {cache_dir}")
    out = tmp_path / "out"
    assert daemon_command(source, own, out) == f"showcase daemon {source} -o {out}"


def test_the_progress_bar_shows_each_stage_with_its_own_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = [0.0]
    monkeypatch.setattr(build_command.time, "perf_counter", lambda: now[0])
    bar = build_command.ProgressBar()
    now[0] = 10.0
    bar("files", 0, 4000)
    now[0] = 12.0
    bar("files", 3000, 4000)
    now[0] = 30.0  # the rest of the analysis took 18 s: the bodies' rate does not count it
    bar("bodies", 0, 1000)
    now[0] = 40.0
    bar("bodies", 500, 1000)
    now[0] = 60.0
    bar("pages", 0, 13941)
    now[0] = 61.0
    bar("pages", 64, 13941)
    shown = capsys.readouterr().err.split("\r")
    assert "读取文件3000/4000，每秒1500个，约剩1秒" in shown[-3]
    assert "正文500/1000，每秒50篇，约剩10秒" in shown[-2]
    assert "页面64/13941，每秒64页，约剩217秒" in shown[-1]
    # a build tells the stages in order, files, bodies, pages, from the start of each
    monkeypatch.undo()
    told: list[tuple[str, int, int]] = []
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=None)
    report = build(options, lambda stage, done, total: told.append((stage, done, total)))
    stages = [stage for stage, _, _ in told]
    assert [s for i, s in enumerate(stages) if stages[i - 1 : i] != [s]] == [
        "files",
        "bodies",
        "pages",
    ]
    assert told[0] == ("files", 0, 1) and ("files", 1, 1) in told
    assert ("bodies", 0, 1) in told and told[stages.index("pages")][1] == 0
    # the pages counted are the HTML pages the build says it made, not the other files
    pages = [(done, total) for stage, done, total in told if stage == "pages"]
    assert report.html < report.pages
    assert pages[-1] == (report.html, report.html) and {t for _, t in pages} == {report.html}


def _chunk_of_ids(indices: range) -> list[int]:
    return list(indices)


def _even_ids(indices: range) -> int:
    return sum(i % 2 == 0 for i in indices)


def _first_chunk_failing(indices: range) -> list[int]:
    """The first chunk fails at once; every other one takes a tenth of a second and leaves
    a mark in the folder ``$CHUNKS_RAN``."""
    if indices.start == 0:
        raise OSError("the disk is full")
    time.sleep(0.1)
    (Path(os.environ["CHUNKS_RAN"]) / str(indices.start)).touch()
    return list(indices)


def test_a_chunk_failing_in_a_worker_has_the_others_skipped_not_the_workers_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers end the chunks they hold, skip the rest and leave on their own: a worker
    killed while it holds the results queue's lock would leave the pool waiting forever."""
    monkeypatch.setenv("CHUNKS_RAN", str(tmp_path))
    killed: list[object] = []
    terminate = multiprocessing.pool.Pool.terminate

    def recorded(self: multiprocessing.pool.Pool) -> None:
        killed.append(self)
        terminate(self)

    monkeypatch.setattr(multiprocessing.pool.Pool, "terminate", recorded)
    with pytest.raises(OSError, match="the disk is full"):
        list(pool._run(_first_chunk_failing, pool.CHUNK * 100, 2, None, 1))
    assert not killed and not multiprocessing.active_children()
    assert len(list(tmp_path.iterdir())) < 20  # of 99 chunks left


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stage_counts_the_weight_of_each_chunk_done(workers: int) -> None:
    """With or without workers, a stage is told the weight of the chunks done (the pages
    stage: their HTML pages), of the weight of all of them."""
    told: list[tuple[int, int]] = []

    def tell(done: int, total: int) -> None:
        told.append((done, total))

    run = pool._run(_chunk_of_ids, 200, workers, tell, 1, None, _even_ids)
    assert [i for chunk in run for i in chunk] == list(range(200))
    assert told[0] == (0, 100) and told[-1] == (100, 100)  # 0, 2, 4 ... 198 weigh 1
    assert {total for _, total in told} == {100} and len(told) == 1 + 200 // pool.CHUNK + 1


@pytest.mark.parametrize("workers", [1, 2])
def test_the_pages_are_counted_while_the_search_index_is_made(workers: int) -> None:
    """The work done beside the pages (``meanwhile``: the search index) does not hold the
    count back: with workers it moves on meanwhile; without, the stage's clock starts
    after it."""
    told: list[tuple[int, int]] = []
    seen: list[int] = []

    def meanwhile() -> None:
        deadline = time.monotonic() + 20
        while workers > 1 and (not told or told[-1][0] < 200) and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(told[-1][0] if told else -1)

    run = pool._run(_chunk_of_ids, 200, workers, lambda d, t: told.append((d, t)), 1, meanwhile)
    assert [i for chunk in run for i in chunk] == list(range(200))
    if workers > 1:
        assert seen == [200]  # every chunk told before ``meanwhile`` ended
    else:
        assert seen == [-1] and told[0] == (0, 200)  # the stage told after ``meanwhile``
    assert told[-1] == (200, 200)


def test_a_fault_of_the_tool_is_said_in_words_with_its_traceback_in_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a fault of the tool")

    import generator.build as building
    from generator.cli import console

    monkeypatch.setattr(building, "build", broken)
    # the commands set how much is printed: as it was after this test
    monkeypatch.setattr(console.VERBOSITY, "verbose", False)
    monkeypatch.setattr(console.VERBOSITY, "quiet", False)
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    code = cli.guarded(["build", str(source), "-o", str(tmp_path / "out")])
    said = capsys.readouterr().err
    assert code == cli.INTERNAL_ERROR and "Traceback" not in said
    assert "程序内部出错" in said and "RuntimeError: a fault of the tool" in said
    report = Path(said.split("详细信息已保存到 ")[1].split("，")[0])
    assert "Traceback" in report.read_text(encoding="utf-8")
    report.unlink()
    code = cli.guarded(["build", str(source), "-o", str(tmp_path / "out"), "-v"])
    verbose = capsys.readouterr().err
    assert code == cli.INTERNAL_ERROR and "Traceback" in verbose  # for whoever maintains it
    Path(verbose.split("详细信息已保存到 ")[1].split("，")[0]).unlink()


def test_what_the_progress_raises_in_the_pools_thread_is_raised_by_the_stage() -> None:
    def failing(done: int, total: int) -> None:
        if done:
            raise ValueError("told badly")

    with pytest.raises(ValueError, match="told badly"):
        list(pool._run(_chunk_of_ids, 200, 2, failing, 1))
