#!/bin/bash
# watch.sh — the shell baseline of the benchmarks: what a user would otherwise run to be told
# about papers. inotifywait reports every digest written or renamed into the folder, grep finds
# the lines naming a keyword (one line is one paper in an hf-daily digest), and curl posts each
# hit.
#
# usage: watch.sh DIR KEYWORDS_FILE URL
# It keeps no state: a paper in two digests is posted twice, and events the kernel drops when its
# queue overflows are simply never seen. Both are what the benchmark counts.
dir=$1 keywords=$2 url=$3

# "Watches established." on stderr says the watch is in place.
inotifywait -m -e close_write,moved_to --format '%w%f' "$dir" |
	while IFS= read -r path; do
		name=${path##*/}
		# Only the names paperwatch reads: hidden files and temporary names are someone's
		# half-written digest.
		case $name in
		.* | *.tmp) continue ;;
		*.md | *.txt) ;;
		*) continue ;;
		esac
		grep -iwF -f "$keywords" -- "$path" |
			while IFS= read -r hit; do
				curl -sS -o /dev/null --data-urlencode "file=$name" \
					--data-urlencode "hit=$hit" "$url"
			done
	done
