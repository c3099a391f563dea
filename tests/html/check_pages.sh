#!/usr/bin/env bash
# The save_html pages in a real browser: runs examples/graph_page (the J = 3(a + b·c) page and an
# MLP's), loads each page from its file in headless Chromium with the URL hash that presses the
# page's own step buttons to the end (#step=end), and checks that the gradients the page shows
# (the text of its data-grad elements) are the tape's, as the program printed them with
# format_value: all of them with every module open, the leaves' with the modules closed; one step
# in, none is shown.
#
#   bash tests/html/check_pages.sh build/examples/graph_page OUT_DIR [chromium]
set -euo pipefail
program=$1
mkdir -p "$2"
out=$(cd "$2" && pwd)
chromium=${3:-chromium}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

"$program" --out "$out" >"$out/grads.txt"

# The DOM of page $1 with URL hash $2, after its script ran.
dump() {
    "$chromium" --headless --no-sandbox --disable-gpu --user-data-dir="$profile" \
        --dump-dom "file://$out/$1.html#$2" 2>/dev/null
}
# "name<TAB>value" for each data-grad element that shows a value, sorted.
shown() {
    perl -ne 'while (/data-grad="([^"]*)"[^>]*>([^<]*)</g) {
        my ($n, $v) = ($1, $2);
        next if $v eq "";
        for ($n, $v) { s/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&amp;/&/g; }
        print "$n\t$v\n";
    }' | LC_ALL=C sort
}
# "name<TAB>value" of the gradients the program printed for page $1 ($2: leaf, op or any).
printed() {
    perl -ne 'print "$3\t$4\n" if /^grad (\S+) (leaf|op) (.*?): (.*)$/ && $1 eq "'"$1"'" &&
        ("'"$2"'" eq "any" || $2 eq "'"$2"'")' "$out/grads.txt" | LC_ALL=C sort
}

status=0
fail() {
    echo "FAIL: $*"
    status=1
}
for page in lecture mlp; do
    expected=$(printed "$page" any)
    leaves=$(printed "$page" leaf)
    [[ -n "$leaves" ]] || fail "$page: the program printed no leaf gradient"

    dom=$(dump "$page" "step=end&expand=all")
    grep -q 'id="status"[^>]*data-phase="done"' <<<"$dom" || fail "$page: #step=end did not reach the end of backward"
    got=$(shown <<<"$dom")
    if [[ "$got" != "$expected" ]]; then
        fail "$page, every module open: the page shows other gradients than the tape's"
        diff <(echo "$expected") <(echo "$got") || true
    fi

    dom=$(dump "$page" "step=end&expand=none")
    got=$(shown <<<"$dom")
    missing=$(LC_ALL=C comm -23 <(echo "$leaves") <(echo "$got"))
    extra=$(LC_ALL=C comm -13 <(echo "$expected") <(echo "$got"))
    [[ -z "$missing" ]] || fail "$page, modules closed: leaf gradients not shown: $missing"
    [[ -z "$extra" ]] || fail "$page, modules closed: gradients the tape does not hold: $extra"

    dom=$(dump "$page" "step=1")
    grep -q 'id="status"[^>]*data-phase="forward"' <<<"$dom" || fail "$page: #step=1 is not a forward step"
    [[ -z "$(shown <<<"$dom")" ]] || fail "$page: a gradient is shown before backward"
    echo "$page: $(wc -l <<<"$expected") gradients checked ($(wc -l <<<"$leaves") of leaves)"
done
exit $status
