#!/usr/bin/env bash
# Runs every example against a fresh ossmp-emulator and checks each one's exit status and
# output: every line of examples/expected/CASE is an extended regular expression (grep -E) that
# must match at least one line of the output (stdout and stderr together). Prints the reason
# and the output of each failing case; exits non-zero if any failed, or if an example in
# EXAMPLES_DIR has no case here, or a case has no program.
#
#   examples/run_examples.sh EMULATOR_BINARY EXAMPLES_DIR
set -uo pipefail
if (($# != 2)); then
    echo "usage: $0 EMULATOR_BINARY EXAMPLES_DIR" >&2
    exit 2
fi
emulator=$1
bin=$2
here=$(cd "$(dirname "$0")" && pwd)
expected=$here/expected

work=$(mktemp -d "${TMPDIR:-/tmp}/ossmp-examples.XXXXXX")
emulator_pid=
cleanup() {
    if [[ -n $emulator_pid ]]; then
        kill "$emulator_pid" 2>/dev/null
        wait "$emulator_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The emulator prints its address first: "ossmp-emulator listening on http://HOST:PORT".
"$emulator" --listen 127.0.0.1:0 --bucket demo --credentials ak:sk --region cn-hangzhou \
    >"$work/emulator.out" 2>"$work/emulator.err" &
emulator_pid=$!
endpoint=
for _ in $(seq 100); do
    line=$(head -n 1 "$work/emulator.out" 2>/dev/null)
    if [[ $line == "ossmp-emulator listening on "* ]]; then
        endpoint=${line#ossmp-emulator listening on }
        break
    fi
    kill -0 "$emulator_pid" 2>/dev/null || break
    sleep 0.05
done
if [[ -z $endpoint ]]; then
    echo "FAIL: the emulator did not start" >&2
    cat "$work/emulator.err" >&2
    exit 1
fi
echo "emulator at $endpoint"

export OSS_ENDPOINT=$endpoint OSS_ACCESS_KEY_ID=ak OSS_ACCESS_KEY_SECRET=sk
export OSS_REGION=cn-hangzhou OSS_BUCKET=demo OSS_KEY_PREFIX=examples/
export TMPDIR=$work # the examples' sample files
unset OSS_SESSION_TOKEN OSS_SIGN OSS_PATH_STYLE

failed=0
passed=0
declare -A ran

# check CASE STATUS [--stdin FILE] -- PROGRAM ARGS...: runs it (60 s at most, stdin piped
# from FILE or empty), then compares the status and matches expected/CASE.
check() {
    local case=$1 want=$2 input=/dev/null
    shift 2
    if [[ $1 == --stdin ]]; then
        input=$2
        shift 2
    fi
    shift # --
    local program=$1
    shift
    ran[$program]=1
    local out=$work/$case.out status
    if [[ ! -x $bin/$program ]]; then
        echo "FAIL $case: no program $bin/$program"
        failed=$((failed + 1))
        return
    fi
    # Through a pipe: stdin of an example is a pipe or nothing (upload_stdin needs a pipe).
    cat "$input" | timeout 60 "$bin/$program" "$@" >"$out" 2>&1
    status=$?
    local reasons=()
    ((status == want)) || reasons+=("exit status $status, expected $want")
    if [[ ! -f $expected/$case ]]; then
        reasons+=("no expectations in expected/$case")
    else
        while IFS= read -r pattern; do
            [[ -z $pattern || $pattern == \#* ]] && continue
            grep -Eq -- "$pattern" "$out" || reasons+=("no line matches: $pattern")
        done <"$expected/$case"
    fi
    if ((${#reasons[@]})); then
        echo "FAIL $case ($program $*):"
        printf '  - %s\n' "${reasons[@]}"
        echo "  output:"
        sed 's/^/  | /' "$out"
        failed=$((failed + 1))
    else
        echo "ok   $case"
        passed=$((passed + 1))
    fi
}

check initiate_with_headers 0 -- initiate_with_headers
check determine_part_size 0 -- determine_part_size
check complete_all 0 -- complete_all
check complete_with_acl 0 -- complete_with_acl
check abort_upload 0 -- abort_upload
check list_parts 0 -- list_parts
check list_uploads_of_object 0 -- list_uploads_of_object
check list_all_uploads 0 -- list_all_uploads
check list_by_prefix 0 -- list_by_prefix
check credentials_from_env 0 -- credentials_from_env
check v4_signing_region 0 -- v4_signing_region
OSS_SIGN=v1 check list_parts.v1 0 -- list_parts # every request V1-signed
check invalid_digest 0 -- invalid_digest
check upload_file 0 -- upload_file
# Pause and resume in one run; then a real crash (_Exit) and a second run that resumes it.
check resume_after_crash 0 -- resume_after_crash
head -c 3000000 /dev/urandom >"$work/crash.bin"
check resume_after_crash.crash 3 -- resume_after_crash --crash-after 2 "$work/crash.bin"
check resume_after_crash.after_crash 0 -- resume_after_crash "$work/crash.bin"
check callbacks 0 -- callbacks
check custom_transport 0 -- custom_transport
head -c 700000 /dev/urandom >"$work/stdin.bin"
check upload_stdin 0 --stdin "$work/stdin.bin" -- upload_stdin
head -c 20971520 /dev/urandom >"$work/readme.bin" # 3 parts of the default 8 MiB
check readme_upload 0 -- readme_upload "$work/readme.bin" demo examples/readme.bin
check readme_upload.missing 1 -- readme_upload "$work/no-such-file" demo examples/readme.bin
check many_uploads_one_budget 0 -- many_uploads_one_budget
check cleanup_stale_uploads 0 -- cleanup_stale_uploads

# Every program in EXAMPLES_DIR must have been run (a new example needs a case here).
for f in "$here"/*.cpp; do
    name=$(basename "$f" .cpp)
    [[ $name == compiled_transport ]] && continue
    if [[ -z ${ran[$name]:-} ]]; then
        echo "FAIL $name: examples/$name.cpp has no case in run_examples.sh"
        failed=$((failed + 1))
    fi
done

echo "examples: $passed passed, $failed failed"
((failed == 0))
