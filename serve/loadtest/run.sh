#!/usr/bin/env bash
# Load comparison of serve.Handler against nginx serving the same 100 KB feed
# and its .gz copy from disk, as the site writer leaves them: nginx with
# gzip_static, paperfeed with its verified .gz.
#
# Everything stays on 127.0.0.1 and in one temp dir that is removed at the
# end; both servers are stopped by the trap whatever happens. nginx runs in
# the foreground from a config in the temp dir, never as a system service.
# Needs go, curl, gzip, nginx (with gzip_static) and wrk; as root on Debian it
# installs nginx-light and wrk when they are missing.
#
# Usage: serve/loadtest/run.sh
# Environment: PF_PORT (18480), NGINX_PORT (18481), DURATION (10s),
# THREADS (2), CONNECTIONS (50), ROUNDS (1; more rounds alternate the two
# servers and report medians, which helps on a busy machine), CASES ("plain
# gzip 304", any of them), PF_CPUPROFILE (a file, outside the temp dir, to
# write a CPU profile of paperfeed's whole run to), PF_BIN (a loadtest
# binary built beforehand, to compare builds back to back; by default
# ./serve/loadtest is built from this tree).
set -euo pipefail

PF_PORT=${PF_PORT:-18480}
NGINX_PORT=${NGINX_PORT:-18481}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
ROUNDS=${ROUNDS:-1}
CASES=${CASES:-plain gzip 304}
PF_CPUPROFILE=${PF_CPUPROFILE:+$(realpath -m "$PF_CPUPROFILE")} # before the cd below
PF_BIN=${PF_BIN:+$(realpath "$PF_BIN")}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light wrk >/dev/null ||
			{ apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light wrk >/dev/null; }
	else
		echo "run.sh: needs nginx and wrk (Debian: apt-get install nginx-light wrk)" >&2
		exit 1
	fi
fi

tmp=$(mktemp -d)
chmod 755 "$tmp" # nginx workers run as an unprivileged user when started as root
cd "$tmp"         # anything stray lands in the temp dir, which is removed
pf_pid=
nginx_pid=
cleanup() {
	if [[ -n $pf_pid ]]; then kill "$pf_pid" 2>/dev/null || true; wait "$pf_pid" 2>/dev/null || true; fi
	if [[ -n $nginx_pid ]]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A deterministic ~100 KB Atom feed whose text compresses like abstracts do,
# and its .gz copy beside it.
mkdir -p "$tmp/site/feeds" "$tmp/nginx-temp"
feed=$tmp/site/feeds/bench.atom
awk 'BEGIN {
	srand(1)
	n = split("learning model models neural network data training language large diffusion reinforcement agent benchmark evaluation transformer attention vision robot policy reasoning graph retrieval generation method results propose show improve state art tasks", w, " ")
	printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
	size = 0
	while (size < 100000) {
		line = sprintf("<entry><id>tag:paperfeed,2026:paper/2606.%05d</id><title>", int(rand() * 100000))
		for (i = 0; i < 8; i++) line = line w[int(rand() * n) + 1] " "
		line = line "</title><summary>"
		for (i = 0; i < 150; i++) line = line w[int(rand() * n) + 1] " "
		line = line "</summary></entry>"
		print line
		size += length(line) + 1
	}
	print "</feed>"
}' >"$feed"
gzip -9 -k -n "$feed"
touch -r "$feed" "$feed.gz"
chmod -R a+rX "$tmp/site"

cat >"$tmp/nginx.conf" <<CONF
worker_processes auto;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
daemon off;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx-temp/body;
	proxy_temp_path $tmp/nginx-temp/proxy;
	fastcgi_temp_path $tmp/nginx-temp/fastcgi;
	uwsgi_temp_path $tmp/nginx-temp/uwsgi;
	scgi_temp_path $tmp/nginx-temp/scgi;
	types { application/atom+xml atom; }
	default_type application/octet-stream;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $tmp/site;
		etag on;
		gzip off;
		gzip_static on;
		gzip_vary on;
		add_header Cache-Control "public, max-age=900";
		add_header X-Content-Type-Options nosniff;
	}
}
CONF

if [[ -n $PF_BIN ]]; then
	cp "$PF_BIN" "$tmp/pfserve"
else
	(cd "$repo" && go build -o "$tmp/pfserve" ./serve/loadtest)
fi
pf_args=(-dir "$tmp/site" -addr "127.0.0.1:$PF_PORT")
[[ -n $PF_CPUPROFILE ]] && pf_args+=(-cpuprofile "$PF_CPUPROFILE")
"$tmp/pfserve" "${pf_args[@]}" 2>"$tmp/pfserve.log" &
pf_pid=$!
nginx -e "$tmp/nginx-error.log" -p "$tmp" -c "$tmp/nginx.conf" &
nginx_pid=$!

pf_url=http://127.0.0.1:$PF_PORT/feeds/bench.atom
nginx_url=http://127.0.0.1:$NGINX_PORT/feeds/bench.atom
for url in "$pf_url" "$nginx_url"; do
	for _ in $(seq 50); do
		curl -fs -o /dev/null "$url" && continue 2
		sleep 0.1
	done
	echo "run.sh: $url did not come up" >&2
	cat "$tmp/pfserve.log" "$tmp/nginx-error.log" >&2 || true
	exit 1
done

etag() { curl -fsI "$1" | tr -d '\r' | awk 'tolower($1) == "etag:" { print $2 }'; }
pf_etag=$(etag "$pf_url")
nginx_etag=$(etag "$nginx_url")

echo "feed: $(stat -c %s "$feed") bytes, .gz copy $(stat -c %s "$feed.gz") bytes; gzip sent: $(curl -fs -H 'Accept-Encoding: gzip' "$nginx_url" | wc -c) bytes (nginx) / $(curl -fs -H 'Accept-Encoding: gzip' "$pf_url" | wc -c) bytes (paperfeed)"
for name in paperfeed nginx; do
	url=$pf_url tag=$pf_etag
	[[ $name == nginx ]] && url=$nginx_url tag=$nginx_etag
	printf '%-9s plain %s, gzip %s, 304 %s, ETag %s\n' "$name" \
		"$(curl -fs -o /dev/null -w '%{http_code} %{size_download} bytes' "$url")" \
		"$(curl -fs -o /dev/null -H 'Accept-Encoding: gzip' -w '%{http_code} %header{content-encoding} %{size_download} bytes' "$url")" \
		"$(curl -s -o /dev/null -H "If-None-Match: $tag" -w '%{http_code}' "$url")" "$tag"
done

# cpu_ticks PID... sums user+system CPU ticks of the given processes.
cpu_ticks() {
	local t=0 p
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$t"
}

# measure URL "PID..." [HEADER...] runs wrk once and prints requests/second
# and the servers' CPU microseconds per request; it warns on errors. The CPU
# figure holds up on a shared machine, where requests/second mostly measures
# the neighbours.
measure() {
	local url=$1 pids=$2 out before after reqs h
	shift 2
	local args=()
	for h in "$@"; do args+=(-H "$h"); done
	# shellcheck disable=SC2086 # pids is a list
	before=$(cpu_ticks $pids)
	out=$(timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "${args[@]}" "$url")
	# shellcheck disable=SC2086
	after=$(cpu_ticks $pids)
	if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
		grep -E 'Non-2xx|Socket errors' <<<"$out" | sed "s|^|    $url: |" >&2
	fi
	reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
	awk -v r="$reqs" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
		'/^Requests\/sec:/ { printf "%.0f %.1f\n", $2, (r > 0 ? t / hz * 1e6 / r : 0) }' <<<"$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

nginx_pids="$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')"

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS round(s) alternating, medians"
printf '%-6s %10s %10s %6s   %14s %14s %6s\n' case "pf req/s" "nginx req/s" ratio "pf CPU us/req" "nginx us/req" ratio
for c in $CASES; do
	hdr=() pf_rps=() ng_rps=() pf_cpu=() ng_cpu=()
	for r in $(seq "$ROUNDS"); do
		for side in pf nginx; do
			# Alternate who goes first, so neither always meets the same neighbours.
			[[ $((r % 2)) -eq 0 ]] && { [[ $side == pf ]] && side=nginx || side=pf; }
			url=$pf_url pids=$pf_pid tag=$pf_etag
			[[ $side == nginx ]] && url=$nginx_url pids=$nginx_pids tag=$nginx_etag
			case $c in
			plain) hdr=() ;;
			gzip) hdr=('Accept-Encoding: gzip') ;;
			304) hdr=("If-None-Match: $tag") ;;
			esac
			read -r rps cpu < <(measure "$url" "$pids" "${hdr[@]}")
			if [[ $side == pf ]]; then pf_rps+=("$rps") pf_cpu+=("$cpu"); else ng_rps+=("$rps") ng_cpu+=("$cpu"); fi
		done
	done
	a=$(printf '%s\n' "${pf_rps[@]}" | median) b=$(printf '%s\n' "${ng_rps[@]}" | median)
	x=$(printf '%s\n' "${pf_cpu[@]}" | median) y=$(printf '%s\n' "${ng_cpu[@]}" | median)
	printf '%-6s %10s %10s %6s   %14s %14s %6s\n' "$c" "$a" "$b" \
		"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" "$x" "$y" \
		"$(awk -v a="$x" -v b="$y" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
done
echo "ratio: paperfeed/nginx for req/s; nginx/paperfeed for CPU per request (above 1 means paperfeed uses less)"
