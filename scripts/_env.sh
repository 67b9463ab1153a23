# shellcheck shell=bash
# Sourced by scripts/demo and scripts/test: find or make the Python environment they run in.
#
#   newo_nb_choose EXTRA   checks, changing nothing, that an environment can be had; sets PY
#   newo_nb_prepare        makes it if needed and installs newo-nb[EXTRA] into it
#
# An active virtual environment ($VIRTUAL_ENV) or conda environment ($CONDA_PREFIX) is used as
# it is: newo-nb is installed into it. Otherwise the project's own .venv is made (with $PYTHON,
# else python3) or reused, so a system Python under PEP 668 ("externally-managed-environment")
# is never installed into. Whatever happens is said in one line on stderr; a set-up that
# cannot work stops with what is missing and the one command that fixes it.

NEWO_NB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Keep in step with pyproject.toml's requires-python (tests/test_scripts.py checks).
NEWO_NB_MIN_PYTHON="3.10"
NEWO_NB_VENV="$NEWO_NB_ROOT/.venv"

newo_nb_say() { printf 'scripts/%s: %s\n' "$NEWO_NB_SCRIPT" "$*" >&2; }

newo_nb_fail() {
    # $1: what is wrong; $2: the one command that fixes it.
    printf 'scripts/%s: %s\n  fix: %s\n' "$NEWO_NB_SCRIPT" "$1" "$2" >&2
    exit 2
}

newo_nb_sudo() {
    # "sudo " when not root, so a printed fix can be pasted as it is.
    if [ "$(id -u)" -ne 0 ]; then printf 'sudo '; fi
}

newo_nb_python_version() {
    # Prints X.Y.Z, or nothing when "$1" does not run. Written to run on any Python, 2 included,
    # so that an old one is named rather than failing on syntax.
    "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true
}

newo_nb_version_ok() {
    # True when version $1 (X.Y[.Z]) is at least NEWO_NB_MIN_PYTHON.
    local major minor want_major want_minor
    IFS=. read -r major minor _ <<<"$1"
    IFS=. read -r want_major want_minor <<<"$NEWO_NB_MIN_PYTHON"
    [ "$major" -gt "$want_major" ] || { [ "$major" -eq "$want_major" ] && [ "$minor" -ge "$want_minor" ]; }
}

newo_nb_newer_python() {
    # The first pythonX.Y on PATH that is new enough, to name in a fix.
    local candidate version
    for candidate in python3.14 python3.13 python3.12 python3.11 python3.10; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        version="$(newo_nb_python_version "$candidate")"
        if [ -n "$version" ] && newo_nb_version_ok "$version"; then
            printf '%s' "$candidate"
            return 0
        fi
    done
    return 1
}

newo_nb_require_version() {
    # $1: the python; $2: its version; $3: how the user chose it (for the message).
    newo_nb_version_ok "$2" && return 0
    local newer
    if newer="$(newo_nb_newer_python)"; then
        newo_nb_fail "newo-nb needs Python $NEWO_NB_MIN_PYTHON or newer; $3 ($1) is $2." \
            "PYTHON=$newer bash scripts/$NEWO_NB_SCRIPT"
    fi
    newo_nb_fail "newo-nb needs Python $NEWO_NB_MIN_PYTHON or newer; $3 ($1) is $2, and no python3.10 or newer is on PATH." \
        "PYTHON=/path/to/python3.12 bash scripts/$NEWO_NB_SCRIPT    # after installing Python $NEWO_NB_MIN_PYTHON+ (system packages or pyenv)"
}

newo_nb_active_env() {
    # Prints the prefix of the active virtual or conda environment, if any.
    if [ -n "${VIRTUAL_ENV:-}" ]; then
        printf '%s' "$VIRTUAL_ENV"
    elif [ -n "${CONDA_PREFIX:-}" ]; then
        printf '%s' "$CONDA_PREFIX"
    fi
}

newo_nb_stamp_current() {
    # True when $1 (a prefix) holds an install of this checkout, made from this pyproject.toml,
    # with extra $2 (or the "test" extra, which includes everything the demo needs).
    local stamp="$1/.newo-nb-installed" wanted
    [ -f "$stamp" ] || return 1
    wanted="$(newo_nb_stamp_text)"
    grep -qxF "$wanted $2" "$stamp" || grep -qxF "$wanted test" "$stamp"
}

newo_nb_stamp_text() {
    printf '%s %s' "$NEWO_NB_ROOT" "$(cksum <"$NEWO_NB_ROOT/pyproject.toml" | cut -d' ' -f1)"
}

newo_nb_locked() {
    # Runs "$@" holding this checkout's install lock: an editable install writes
    # newo_nb.egg-info into the checkout, so two at once (the demo and the tests, or CI's
    # Pythons) must not overlap. flock is util-linux's; without it, runs as is.
    if command -v flock >/dev/null 2>&1; then
        flock "${TMPDIR:-/tmp}/newo-nb-install-$(printf '%s' "$NEWO_NB_ROOT" | cksum | cut -d' ' -f1).lock" "$@"
    else
        "$@"
    fi
}

newo_nb_install() {
    # pip install -e ".[EXTRA]" into prefix $1, then stamps the prefix.
    local prefix="$1" extra="$2" target="."
    [ -n "$extra" ] && target=".[$extra]"
    (cd "$NEWO_NB_ROOT" && newo_nb_locked "$PY" -m pip install --quiet \
        --disable-pip-version-check --no-input -e "$target") || newo_nb_fail \
        "pip could not install newo-nb into $prefix (its output is above)." \
        "cd $NEWO_NB_ROOT && $PY -m pip install -e '$target'"
    # Not fatal when the prefix is read-only: the next run installs again.
    printf '%s %s\n' "$(newo_nb_stamp_text)" "$extra" >>"$prefix/.newo-nb-installed" 2>/dev/null || true
}

newo_nb_choose_active_env() {
    local prefix="$1" kind="virtual environment"
    [ -z "${VIRTUAL_ENV:-}" ] && kind="conda environment"
    NEWO_NB_WHERE="the active $kind $prefix"
    PY="$prefix/bin/python"
    NEWO_NB_VERSION="$(newo_nb_python_version "$PY")"
    if [ -z "$NEWO_NB_VERSION" ]; then
        newo_nb_fail "the active $kind ($prefix) has no working bin/python." \
            "deactivate    # then run bash scripts/$NEWO_NB_SCRIPT again"
    fi
    newo_nb_require_version "$PY" "$NEWO_NB_VERSION" "the active $kind's Python"
}

newo_nb_check_ensurepip() {
    # `python -m venv` without ensurepip fails half-way and leaves a .venv without pip: say
    # what is missing before trying.
    local base="$1" version="$2" major_minor="${2%.*}"
    "$base" -c 'import ensurepip' >/dev/null 2>&1 && return 0
    if command -v apt-get >/dev/null 2>&1; then
        newo_nb_fail "$base (Python $version) cannot make a virtual environment: ensurepip is missing (Debian and Ubuntu ship it in python$major_minor-venv)." \
            "$(newo_nb_sudo)apt-get install -y python$major_minor-venv"
    fi
    newo_nb_fail "$base (Python $version) cannot make a virtual environment: ensurepip is missing." \
        "PYTHON=/path/to/another/python3 bash scripts/$NEWO_NB_SCRIPT    # one with venv and ensurepip"
}

newo_nb_choose_project_venv() {
    local base="${PYTHON:-python3}" chosen="python3 on PATH" version
    [ -n "${PYTHON:-}" ] && chosen="\$PYTHON"
    if ! command -v "$base" >/dev/null 2>&1; then
        newo_nb_fail "no $base found ($chosen): newo-nb needs Python $NEWO_NB_MIN_PYTHON or newer." \
            "$(newo_nb_sudo)apt-get install -y python3 python3-venv    # or your system's packages"
    fi
    base="$(command -v "$base")"
    version="$(newo_nb_python_version "$base")"
    [ -n "$version" ] || newo_nb_fail "$base ($chosen) does not run." \
        "PYTHON=/path/to/python3 bash scripts/$NEWO_NB_SCRIPT"
    newo_nb_require_version "$base" "$version" "$chosen"

    PY="$NEWO_NB_VENV/bin/python"
    NEWO_NB_BASE="$base"
    NEWO_NB_VERSION="$(newo_nb_python_version "$PY")"
    if [ -n "$NEWO_NB_VERSION" ] && ! "$PY" -m pip --version >/dev/null 2>&1; then
        NEWO_NB_VERSION=""  # a .venv without pip, left by a `python -m venv` that failed: remade
    fi
    if [ -z "$NEWO_NB_VERSION" ]; then
        newo_nb_check_ensurepip "$base" "$version"
        NEWO_NB_MAKE_VENV=1
        NEWO_NB_VERSION="$version"
        NEWO_NB_WHERE="$NEWO_NB_VENV"
        return 0
    fi
    NEWO_NB_WHERE="$NEWO_NB_VENV"
    if [ -n "${PYTHON:-}" ] && [ "${NEWO_NB_VERSION%.*}" != "${version%.*}" ]; then
        newo_nb_fail "$NEWO_NB_VENV has Python $NEWO_NB_VERSION but \$PYTHON ($base) is $version." \
            "rm -rf $NEWO_NB_VENV    # then run again: it is made anew with \$PYTHON"
    fi
    if ! newo_nb_version_ok "$NEWO_NB_VERSION"; then
        newo_nb_fail "$NEWO_NB_VENV has Python $NEWO_NB_VERSION; newo-nb needs $NEWO_NB_MIN_PYTHON or newer." \
            "rm -rf $NEWO_NB_VENV    # then run again: it is made anew with $base"
    fi
}

newo_nb_choose() {
    # $1: the extra to install ("" for the package alone). Sets PY and checks, changing
    # nothing, that the environment can be had.
    local active
    NEWO_NB_EXTRA="$1"
    NEWO_NB_MAKE_VENV=""
    active="$(newo_nb_active_env)"
    NEWO_NB_ACTIVE="$active"
    if [ -n "$active" ]; then
        newo_nb_choose_active_env "$active"
    else
        newo_nb_choose_project_venv
    fi
}

newo_nb_prepare() {
    # Makes the environment newo_nb_choose chose and installs newo-nb into it, saying so first
    # in one line (the first install takes minutes).
    local prefix="${NEWO_NB_ACTIVE:-$NEWO_NB_VENV}" what="newo-nb"
    [ -n "$NEWO_NB_EXTRA" ] && what="newo-nb[$NEWO_NB_EXTRA]"
    if [ -n "$NEWO_NB_MAKE_VENV" ]; then
        newo_nb_say "making $NEWO_NB_VENV with $NEWO_NB_BASE (Python $NEWO_NB_VERSION) and installing $what into it (minutes, the first time)"
        "$NEWO_NB_BASE" -m venv --clear "$NEWO_NB_VENV" || newo_nb_fail \
            "$NEWO_NB_BASE -m venv $NEWO_NB_VENV failed (its output is above)." \
            "rm -rf $NEWO_NB_VENV && $NEWO_NB_BASE -m venv $NEWO_NB_VENV"
        newo_nb_install "$prefix" "$NEWO_NB_EXTRA"
    elif ! newo_nb_stamp_current "$prefix" "$NEWO_NB_EXTRA"; then
        newo_nb_say "using $NEWO_NB_WHERE (Python $NEWO_NB_VERSION); installing $what into it"
        newo_nb_install "$prefix" "$NEWO_NB_EXTRA"
    else
        newo_nb_say "using $NEWO_NB_WHERE (Python $NEWO_NB_VERSION); $what already installed"
    fi
}
