#!/usr/bin/env python3
"""Checks every fenced code block of README.md against the product it describes.

Each block must be preceded by a line `<!-- check: KIND [ARGS] -->`; a block without one fails.
The kinds:

  scripts          every line starts with a program of the repository that exists and is
                   executable (`scripts/demo` itself runs as the ctest `demo`)
  example FILE     the block is exactly FILE (an example that `examples/run_examples.sh` builds
                   and runs against the emulator)
  install          `cmake -S/-B ... -DOPTION=...`: every option is a CMake variable of ours or
                   CMake's; `cmake --build --target T...`: every target exists in the build;
                   `cmake --install`: run on the build into a temporary prefix, which must then
                   hold the headers, the CMake package, ossmp.pc and the two programs
  files FILE...    every line of the block occurs in one of the files (a consumer project that
                   `scripts/test` builds against the installed package)
  help PROGRAM     a synopsis: each line starting with PROGRAM names a command (PROGRAM and
                   the words after it up to the first argument); every option in its lines must
                   be in `PROGRAM COMMAND --help`, and every option of that help (except
                   --help and those described as "tests only") must be in its lines
  run              run with bash -euo pipefail, in one scratch directory shared by all `run`
                   blocks, with the programs on PATH and OSS_ENDPOINT, OSS_REGION and the keys
                   set for an emulator this script started; must exit 0
  server           run with bash in a scratch directory, then the emulator the block started
                   in the background must answer `ossmp` at the OSS_ENDPOINT the block exported
                   (an upload and a read back); the emulator is stopped afterwards
  compile          compiled as the body of a function after `#include <ossmp/ossmp.hpp>`
                   (-fsyntax-only, warnings as errors)
  paths            every header or directory named in the block exists

usage: check_readme.py --source-dir DIR --build-dir CMAKE-BUILD-DIR --cxx COMPILER --cli OSSMP
                       --emulator OSSMP-EMULATOR [--readme FILE]
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CHECK_RE = re.compile(r"^<!-- check: (\S+)(.*?) -->$")


def parse_blocks(path):
    """[(line number, kind, args, text)] for every fenced block; kind None when unannotated."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            start = i
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            if j == len(lines):
                raise SystemExit(f"{path}:{start + 1}: unterminated code block")
            kind, args = None, []
            k = start - 1
            while k >= 0 and lines[k].strip() == "":
                k -= 1
            m = CHECK_RE.match(lines[k].strip()) if k >= 0 else None
            if m:
                kind, args = m.group(1), m.group(2).split()
            blocks.append((start + 1, kind, args, "\n".join(lines[start + 1 : j])))
            i = j + 1
        else:
            i += 1
    return blocks


class Checker:
    def __init__(self, opts):
        self.src = os.path.abspath(opts.source_dir)
        self.build = os.path.abspath(opts.build_dir)
        self.cxx = opts.cxx
        self.cli = os.path.abspath(opts.cli)
        self.emulator = os.path.abspath(opts.emulator)
        self.scratch = tempfile.mkdtemp(prefix="ossmp-readme.")
        self.env = dict(os.environ)
        self.env["PATH"] = (
            os.path.dirname(self.cli) + os.pathsep + os.path.dirname(self.emulator) + os.pathsep
            + self.env.get("PATH", "")
        )
        for var in ("OSS_SESSION_TOKEN", "OSS_ENDPOINT", "OSS_REGION", "XDG_STATE_HOME"):
            self.env.pop(var, None)
        # cp keeps its checkpoints under XDG_STATE_HOME: inside the scratch directory.
        self.env["XDG_STATE_HOME"] = os.path.join(self.scratch, "state")
        os.makedirs(self.env["XDG_STATE_HOME"], mode=0o700)
        self.emulator_proc = None
        self.run_dir = None

    def close(self):
        if self.emulator_proc:
            self.emulator_proc.terminate()
            self.emulator_proc.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)

    # --- helpers ---
    def sh(self, script, cwd, env=None, timeout=300):
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=cwd,
            env=env or self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )

    def start_emulator(self):
        if self.emulator_proc:
            return
        self.env["OSS_ACCESS_KEY_ID"] = "readme-ak"
        self.env["OSS_ACCESS_KEY_SECRET"] = "readme-sk"
        out = open(os.path.join(self.scratch, "emulator.out"), "w+")
        self.emulator_proc = subprocess.Popen(
            [self.emulator, "--listen", "127.0.0.1:0", "--bucket", "demo"],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        for _ in range(100):
            out.seek(0)
            first = out.readline()
            if first.startswith("ossmp-emulator listening on "):
                self.env["OSS_ENDPOINT"] = first.split(" on ", 1)[1].strip()
                self.env["OSS_REGION"] = "cn-hangzhou"
                return
            if self.emulator_proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("the emulator did not start: " + open(out.name).read())

    # --- kinds ---
    def check_scripts(self, args, text):
        for line in text.splitlines():
            words = line.split()
            if not words:
                continue
            path = os.path.join(self.src, words[0])
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                return f"{words[0]} is not an executable file of the repository"
        return None

    def check_example(self, args, text):
        path = os.path.join(self.src, args[0])
        want = open(path, encoding="utf-8").read()
        if want != text + "\n":
            return f"the block differs from {args[0]} (copy the file into the README)"
        name = os.path.splitext(os.path.basename(args[0]))[0]
        runner = open(os.path.join(self.src, "examples", "run_examples.sh")).read()
        if not re.search(rf"^check {re.escape(name)} 0 ", runner, re.M):
            return f"examples/run_examples.sh does not run {name}"
        return None

    def cmake_options(self):
        names = set()
        for root, _, files in os.walk(self.src):
            if "/build" in root[len(self.src) :] or "/." in root[len(self.src) :]:
                continue
            for f in files:
                if f == "CMakeLists.txt":
                    names.update(
                        re.findall(r"^\s*option\((\w+)", open(os.path.join(root, f)).read(), re.M)
                    )
        return names

    def check_install(self, args, text):
        options = self.cmake_options()
        # The generator's list of targets (Ninja: "NAME: phony", Makefiles: "... NAME").
        targets = subprocess.run(
            ["cmake", "--build", self.build, "--target", "help"],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        ).stdout
        target_names = set(re.findall(r"^(?:\.\.\. )?([\w.+-]+)(?::|$)", targets, re.M))
        installed = False
        for line in text.splitlines():
            words = shlex.split(line)
            if words[:1] != ["cmake"]:
                return f"not a cmake command: {line}"
            if "--install" in words:
                prefix = os.path.join(self.scratch, "install")
                r = subprocess.run(
                    ["cmake", "--install", self.build, "--prefix", prefix],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                if r.returncode:
                    return "cmake --install failed:\n" + r.stdout
                for want in (
                    "include/ossmp/ossmp.hpp",
                    "bin/ossmp",
                    "bin/ossmp-emulator",
                    "share/pkgconfig/ossmp.pc",
                ):
                    if not os.path.exists(os.path.join(prefix, want)):
                        return f"cmake --install put no {want} in the prefix"
                configs = [
                    f for _, _, fs in os.walk(prefix) for f in fs if f == "ossmp-config.cmake"
                ]
                if not configs:
                    return "cmake --install put no ossmp-config.cmake in the prefix"
                installed = True
            elif "--build" in words:
                if "--target" in words:
                    for t in words[words.index("--target") + 1 :]:
                        if t.startswith("-"):
                            break
                        if t not in target_names:
                            return f"no target {t} in the build"
            else:
                for w in words:
                    if w.startswith("-D"):
                        name = w[2:].split("=")[0].split(":")[0]
                        if not name.startswith("CMAKE_") and name not in options:
                            return f"-D{name} is not an option of ours"
        return None if installed else "the block never installs"

    def check_files(self, args, text):
        contents = [
            {l.strip() for l in open(os.path.join(self.src, f)).read().splitlines()} for f in args
        ]
        for line in text.splitlines():
            if line.strip() and not any(line.strip() in c for c in contents):
                return f"no line `{line.strip()}` in {', '.join(args)}"
        return None

    @staticmethod
    def long_options(text):
        return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))

    def check_help(self, args, text):
        program = args[0]
        commands = []  # [(path words, synopsis text)]
        for line in text.splitlines():
            line = line.split("#", 1)[0]
            if line.startswith(program + " ") or line == program:
                words = line.split()[1:]
                path = []
                for w in words:
                    if re.fullmatch(r"[a-z][a-z-]*", w):
                        path.append(w)
                    else:
                        break
                commands.append((tuple(path), line))
            elif line.strip() and commands:
                commands[-1] = (commands[-1][0], commands[-1][1] + "\n" + line)
        if not commands:
            return f"no line starts with {program}"
        by_path = {}
        for path, synopsis in commands:
            by_path[path] = by_path.get(path, "") + "\n" + synopsis
        for path, synopsis in by_path.items():
            binary = self.cli if program == "ossmp" else self.emulator
            r = subprocess.run(
                [binary, *path, "--help"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=self.env,
            )
            name = " ".join((program,) + path)
            if r.returncode:
                return f"`{name} --help` failed: {r.stdout}"
            documented = self.long_options(synopsis)
            # A short option in the synopsis documents its long spelling (`-r,--recursive`).
            for short, long in re.findall(r"(?<![\w-])-(\w),(--[\w-]+)", r.stdout):
                if re.search(rf"(?<![\w-])-{short}(?![\w-])", synopsis):
                    documented.add(long)
            offered, tests_only = set(), set()
            for hl in r.stdout.splitlines():
                (tests_only if "tests only" in hl else offered).update(self.long_options(hl))
            offered -= tests_only | {"--help"}
            missing = sorted(documented - offered - tests_only - {"--help"})
            if missing:
                return f"{name}: not in its --help: {' '.join(missing)}"
            # The global options (the synopsis of PROGRAM alone) apply to every command.
            undocumented = sorted(offered - documented - self.long_options(by_path.get((), "")))
            if undocumented:
                return f"{name}: offered by --help but not in the synopsis: {' '.join(undocumented)}"
        return None

    def check_run(self, args, text):
        self.start_emulator()
        if self.run_dir is None:
            self.run_dir = os.path.join(self.scratch, "run")
            os.makedirs(self.run_dir)
        r = self.sh(text, self.run_dir)
        if r.returncode:
            return f"exit status {r.returncode}; output:\n{r.stdout}"
        return None

    def check_server(self, args, text):
        work = tempfile.mkdtemp(dir=self.scratch)
        env = dict(self.env)
        for var in ("OSS_ENDPOINT", "OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_REGION"):
            env.pop(var, None)
        probe = """
emulator_pid=$!
head -c 3000000 /dev/urandom >readme-probe.bin
up=
for _ in $(seq 100); do
    if ossmp stat oss://demo/none >/dev/null 2>probe.err || grep -q NoSuchKey probe.err; then
        up=1; break
    fi
    kill -0 $emulator_pid 2>/dev/null || break
    sleep 0.05
done
[[ -n $up ]] || { echo "the emulator did not answer at $OSS_ENDPOINT:"; cat probe.err; exit 1; }
ossmp cp readme-probe.bin oss://demo/readme-probe.bin --no-checkpoint
ossmp get oss://demo/readme-probe.bin - | cmp - readme-probe.bin
kill $emulator_pid
wait $emulator_pid || true
"""
        # In a session of its own: whatever the block started is stopped with it.
        proc = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", text + "\n" + probe],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            return "timed out after 120 s; output:\n" + out
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.returncode:
            return f"exit status {proc.returncode}; output:\n{out}"
        return None

    def check_compile(self, args, text):
        src = os.path.join(self.scratch, "snippet.cpp")
        with open(src, "w") as f:
            f.write("#include <ossmp/ossmp.hpp>\n\nvoid readme_snippet() {\n")
            f.write(text + "\n}\n")
        cmd = [
            self.cxx, "-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
            "-Wno-unused-variable", "-DASIO_STANDALONE", "-DASIO_NO_DEPRECATED",
            "-DASIO_HAS_CO_AWAIT=1", "-DASIO_HAS_STD_COROUTINE=1",
            "-I" + os.path.join(self.src, "include"), src,
        ]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode:
            return "does not compile:\n" + r.stdout
        return None

    def check_paths(self, args, text):
        include = os.path.join(self.src, "include", "ossmp")
        for token in re.findall(r"[\w./*-]+\.hpp|\b(?:tools|benchmarks|examples)/[\w-]*", text):
            token = token.rstrip("/")
            candidates = [os.path.join(self.src, token), os.path.join(include, token)]
            if "*" in token:
                d = os.path.join(include, os.path.dirname(token))
                ok = os.path.isdir(d) and any(f.endswith(".hpp") for f in os.listdir(d))
            else:
                ok = any(os.path.exists(c) for c in candidates)
            if not ok:
                return f"no {token} in the repository (nor under include/ossmp)"
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("--cli", required=True, help="the ossmp program")
    ap.add_argument("--emulator", required=True, help="the ossmp-emulator program")
    ap.add_argument("--readme")
    opts = ap.parse_args()
    readme = opts.readme or os.path.join(opts.source_dir, "README.md")
    checker = Checker(opts)
    failed = 0
    try:
        blocks = parse_blocks(readme)
        for line, kind, args, text in blocks:
            where = f"README.md:{line}"
            if kind is None:
                print(f"FAIL {where}: a code block without a `<!-- check: KIND -->` line")
                failed += 1
                continue
            method = getattr(checker, "check_" + kind, None)
            if method is None:
                print(f"FAIL {where}: unknown check kind {kind}")
                failed += 1
                continue
            started = time.monotonic()
            try:
                problem = method(args, text)
            except subprocess.TimeoutExpired as e:
                problem = f"timed out after {e.timeout} s"
            except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
                problem = str(e)
            took = time.monotonic() - started
            if problem:
                print(f"FAIL {where} ({kind}): {problem}")
                failed += 1
            else:
                print(f"ok   {where} ({kind} {' '.join(args)}) {took:.1f} s")
        print(f"{len(blocks) - failed} of {len(blocks)} code blocks checked, {failed} failed")
    finally:
        checker.close()
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
