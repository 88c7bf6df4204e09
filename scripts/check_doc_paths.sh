#!/usr/bin/env bash
# Every doc example and every example program names gosched's items through
# the `gosched` crate (`gosched::net::TcpStream`), never through a sub-crate
# (`gosched_netpoll::net::TcpStream`): a user's crate depends on `gosched`
# alone, so an example that names a sub-crate does not compile when pasted.
#
# Checked:
# - the code blocks of doc comments (`///`, `//!`) in every crate's .rs files;
# - every line of the programs under examples/ and services/examples/;
# - the code blocks of README.md and docs/*.md.
#
# Not checked: doc prose, where an intra-doc link to a sub-crate item
# ([`gosched_executor::syscall`]) is how a sub-crate links to a sibling.
#
# Prints each offending line as FILE:LINE: TEXT and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

pattern='gosched_executor::|gosched_netpoll::|gosched_sync::|gosched_macros::'

# Code lines inside ``` blocks of doc comments.
doc_code() {
  awk -v pat="$pattern" '
    FNR == 1 { in_code = 0 }
    {
      if (match($0, /^[ \t]*(\/\/\/|\/\/!)/)) {
        text = substr($0, RLENGTH + 1)
        sub(/^ /, "", text)
        if (text ~ /^[ \t]*```/) { in_code = !in_code; next }
        if (in_code && text ~ pat) { print FILENAME ":" FNR ": " $0; bad = 1 }
      } else {
        in_code = 0
      }
    }
    END { exit bad }
  ' "$@"
}

# Code lines inside ``` blocks of Markdown files.
md_code() {
  awk -v pat="$pattern" '
    FNR == 1 { in_code = 0 }
    /^[ \t]*```/ { in_code = !in_code; next }
    in_code && $0 ~ pat { print FILENAME ":" FNR ": " $0; bad = 1 }
    END { exit bad }
  ' "$@"
}

status=0

mapfile -t rs_files < <(git ls-files '*.rs')
if [ "${#rs_files[@]}" -gt 0 ]; then
  doc_code "${rs_files[@]}" || status=1
fi

mapfile -t example_files < <(git ls-files 'examples/*.rs' 'examples/**/*.rs' 'services/examples/*.rs' 'services/examples/**/*.rs')
if [ "${#example_files[@]}" -gt 0 ]; then
  grep -nHE "$pattern" "${example_files[@]}" && status=1
fi

mapfile -t md_files < <(git ls-files 'README.md' 'docs/*.md')
if [ "${#md_files[@]}" -gt 0 ]; then
  md_code "${md_files[@]}" || status=1
fi

if [ "$status" -ne 0 ]; then
  echo >&2
  echo "check_doc_paths: examples must name items through gosched:: (gosched::net, gosched::sync, gosched::runtime, ...), not through a sub-crate" >&2
  exit 1
fi
echo "check_doc_paths: ok"
