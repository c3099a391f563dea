#!/usr/bin/env bash
# Style checks the compiler does not make (run by ctest as `style`, so CI runs them too):
#  1. every tracked C++ file is formatted as .clang-format says (clang-format 14, Debian 12);
#  2. every error message of the library begins with a snake_case name ("conv2d: ...",
#     "batch_norm2d: ...", "sgd: ..."), as STYLE.md's error section asks.
# Prints each offence and exits 1 when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

# The project's C++ files matching the globs: tracked ones in a git checkout, else by name.
list() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files "$@"
    else
        local args=() g
        for g in "$@"; do args+=(-o -path "./$g"); done
        find . -path ./build -prune -o \( -false "${args[@]}" \) -type f -print | sed 's|^\./||'
    fi
}

status=0
mapfile -t files < <(list '*.cpp' '*.hpp' '*.cc')
if ! command -v clang-format >/dev/null; then
    echo "check-style: clang-format is not installed (apt-get install clang-format)" >&2
    exit 1
fi
if ! clang-format --dry-run --Werror "${files[@]}"; then
    echo "check-style: the files above are not formatted; run: clang-format -i \$(git ls-files '*.cpp' '*.hpp' '*.cc')" >&2
    status=1
fi

# The first string literal after `throw SomethingError(` must start with a lowercase name and a
# colon: "name: what must hold; got ...".
mapfile -t library < <(list 'autograd/*.cpp' 'autograd/*.hpp' 'nn/*.cpp' 'nn/*.hpp' \
    'optim/*.cpp' 'optim/*.hpp' 'plot/*.cpp' 'plot/*.hpp' 'train/*.cpp' 'train/*.hpp' \
    'dist/*.cpp' 'dist/*.hpp')
if ! perl -0777 -ne '
        while (/throw\s+\w*Error\s*\(\s*(?:fmt::format\s*\(\s*)?"([^"]*)"/g) {
            my $msg = $1;
            next if $msg =~ /^(\{\}|[a-z][a-z0-9_]*(::[a-z0-9_]+)*): /;
            my $line = 1 + (() = substr($_, 0, pos($_)) =~ /\n/g);
            print "$ARGV:$line: error message does not begin with a snake_case name: \"$msg\"\n";
            $bad = 1;
        }
        END { exit($bad ? 1 : 0) }' "${library[@]}"; then
    status=1
fi

# ctest's doctest_discover_tests splits test names at ';' (a TEST_CASE named with one never
# runs under ctest: its pieces match no test and "pass"), and CMake reads a list with an
# unbalanced '[' as one element up to the next ']' ("[0, size)" makes ctest stop with "add_test
# called with incorrect number of arguments").
mapfile -t tests < <(list 'tests/*.cpp')
if grep -n 'TEST_CASE("[^"]*;' "${tests[@]}"; then
    echo "check-style: the test names above contain ';', which ctest cannot run; use ','" >&2
    status=1
fi
if ! perl -ne '
        my $line = $.;
        close ARGV if eof;  # line numbers restart in the next file
        next unless /TEST_CASE\("([^"]*)"/;
        my ($name, $depth, $ok) = ($1, 0, 1);
        for my $c (split //, $name) {
            $depth++ if $c eq "[";
            $depth-- if $c eq "]";
            $ok = 0 if $depth < 0;
        }
        next if $ok && $depth == 0;
        print "$ARGV:$line: test name with unbalanced brackets: \"$name\"\n";
        $bad = 1;
        END { exit($bad ? 1 : 0) }' "${tests[@]}"; then
    echo "check-style: ctest cannot list the tests above; balance their [ ] or use ( )" >&2
    status=1
fi
exit $status
