#!/usr/bin/env bash
# The README's front door as a new user meets it (run by .ci/run):
#   1. build the wheel from the files a clone would have (tracked + new, not ignored),
#   2. install it NON-editable into a fresh venv (dependencies from the package index),
#   3. with that venv first on PATH, a fresh HOME and no BPVIZ_* variables, offscreen:
#        python3 main.py --quit-after 2 --screenshot F   from the repository root,
#        python3 -m bpviz --quit-after 2 --screenshot F  from the repository root,
#        bpviz --quit-after 2 --screenshot F             from another directory,
#      each must exit 0, print no traceback and save a screenshot that is not blank;
#   4. `bpviz --help` lists the subcommands; `bpviz train` trains an epoch on the sample.
# The in-tree bpviz/ shadows the installed package in the repository root, which is the
# case `pip install -e .` (what the tests use) never meets.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/bpviz-front-door.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$SECONDS

fail() { echo "front door: FAILED: $*" >&2; exit 1; }

echo "front door: wheel from a copy of the checkout ($root)"
mkdir "$work/src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z --cached --others --exclude-standard \
    | xargs -0 -I{} sh -c 'test -e "$1" && printf "%s\0" "$1"' _ {} \
    | tar --null -T - -cf -) | tar -xf - -C "$work/src"
else  # an unpacked archive: everything but build products
  tar -C "$root" --exclude=./build --exclude=./dist --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude=.venv -cf - . | tar -xf - -C "$work/src"
fi
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" "$work/src" \
  || fail "could not build the wheel"
wheel="$(ls "$work/dist"/bpviz-*.whl)"

echo "front door: fresh venv, non-editable install of $(basename "$wheel")"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$wheel" || fail "pip install of the wheel failed"
if "$work/venv/bin/python" -m pip show -f bpviz | grep -qi "editable"; then
  fail "bpviz was installed editable"
fi

# A user's shell: the venv activated, nothing of CI's or the developer's environment.
run_user() {  # run_user DIR NAME COMMAND...: runs COMMAND in DIR, checks NAME.png
  local dir="$1" name="$2"; shift 2
  local home; home="$(mktemp -d "$work/home.XXXXXX")"
  local shot="$work/$name.png" log="$work/$name.log"
  echo "front door: ($dir) $* --quit-after 2 --screenshot $name.png"
  local status=0
  (cd "$dir" && env -u PYTHONPATH -u BPVIZ_DATA -u BPVIZ_MNIST_DIR -u XDG_DATA_HOME \
      -u XDG_CONFIG_HOME -u XDG_CACHE_HOME -u VIRTUAL_ENV \
      HOME="$home" PATH="$work/venv/bin:$PATH" QT_QPA_PLATFORM=offscreen \
      timeout 120 "$@" --quit-after 2 --screenshot "$shot") >"$log" 2>&1 || status=$?
  if ((status != 0)) || grep -q "Traceback" "$log"; then
    cat "$log" >&2
    fail "'$*' in $dir exited with status $status: the window did not open"
  fi
  [[ -s "$shot" ]] || { cat "$log" >&2; fail "'$*' in $dir saved no screenshot"; }
  "$work/venv/bin/python" "$root/scripts/check_screenshot.py" "$shot" \
    || fail "'$*' in $dir: the screenshot is blank or malformed"
  if [[ -n "${FRONT_DOOR_KEEP:-}" ]]; then mkdir -p "$FRONT_DOOR_KEEP"; cp "$shot" "$FRONT_DOOR_KEEP/"; fi
}

mkdir "$work/elsewhere"
run_user "$root" main python3 main.py
run_user "$root" module python3 -m bpviz
run_user "$work/elsewhere" script bpviz

echo "front door: bpviz --help"
help="$(cd "$work/elsewhere" && PATH="$work/venv/bin:$PATH" bpviz --help)" || fail "bpviz --help"
[[ "$help" == "usage: bpviz [options] [FILE]"* ]] || fail "bpviz --help: usage does not say 'bpviz'"
for command in train gradcheck download; do
  grep -q "^  $command  " <<<"$help" || fail "bpviz --help does not list '$command'"
done

echo "front door: bpviz train --epochs 1 --json (headless, the packaged sample)"
json="$(cd "$work/elsewhere" && env -u PYTHONPATH -u BPVIZ_DATA HOME="$(mktemp -d "$work/home.XXXXXX")" \
  PATH="$work/venv/bin:$PATH" timeout 300 bpviz train --epochs 1 --json)" || fail "bpviz train"
grep -q '"test_accuracy"' <<<"$json" || fail "bpviz train printed no epoch report"

echo "front door: passed in $((SECONDS - start)) s"
