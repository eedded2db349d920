#!/usr/bin/env bash
# http_files.sh: /files/ against curl and wget in --root mode: ranges
# (a-b, a-, -n, unsatisfiable), HEAD, conditional GET (ETag and date),
# keep-alive counted with %{num_connects}, a large file byte-exact, and
# path traversal in every spelling we know never reaching a file outside
# the root.
set -uo pipefail
. "$(dirname "$0")/http_common.bash"

http_port=$(free_port)
tftp_port=$(free_port)
root=$work/root
mkdir -p "$root/images/worker" "$root/sub"
head -c 3000000 /dev/urandom >"$root/images/worker/vmlinuz"
printf '0123456789abcdefghij' >"$root/small.txt"
: >"$root/empty"
echo inside >"$root/sub/file"
# Secrets outside the root that traversal must never reach.
echo "OUTSIDE-MARKER-7f3a" >"$work/outside.txt"
ln -s ../outside.txt "$root/escape-link"
ln -s "$work/outside.txt" "$root/abs-link"
ln -s sub/file "$root/inner-link"

nb_start --root "$root" --dhcp off --listen 127.0.0.1 \
	--http-port "$http_port" --tftp-port "$tftp_port"
base=http://127.0.0.1:$http_port

# Whole file and ranges.
check "GET small" 0123456789abcdefghij "$(curl -s "$base/files/small.txt")"
check "range a-b" 23456 "$(curl -s -r 2-6 "$base/files/small.txt")"
check "range a-b status" 206 "$(code -r 2-6 "$base/files/small.txt")"
check "range a-" hij "$(curl -s -r 17- "$base/files/small.txt")"
check "range -n" ghij "$(curl -s -r -4 "$base/files/small.txt")"
check "range past end clamps" ij "$(curl -s -r 18-100 "$base/files/small.txt")"
check "Content-Range" "content-range: bytes 2-6/20" \
	"$(curl -s -D - -o /dev/null -r 2-6 "$base/files/small.txt" |
		tr -d '\r' | grep -i '^content-range' | tr 'A-Z' 'a-z')"
check "range unsatisfiable" 416 "$(code -r 20-30 "$base/files/small.txt")"
check "416 Content-Range" "content-range: bytes */20" \
	"$(curl -s -D - -o /dev/null -r 20-30 "$base/files/small.txt" |
		tr -d '\r' | grep -i '^content-range' | tr 'A-Z' 'a-z')"
check "several ranges: whole body" 200 "$(code -r 0-1,4-5 "$base/files/small.txt")"
check "empty file" 200 "$(code "$base/files/empty")"
check "empty file range" 416 "$(code -r 0-1 "$base/files/empty")"
check "missing" 404 "$(code "$base/files/nope")"
check "directory" 404 "$(code "$base/files/sub")"
check "POST files" 405 "$(code -X POST "$base/files/small.txt")"
check "inner symlink" inside "$(curl -s "$base/files/inner-link")"

# HEAD: headers, length, no body.
hdr=$(curl -s -I "$base/files/images/worker/vmlinuz" | tr -d '\r')
check "HEAD length" "Content-Length: 3000000" "$(grep -i '^content-length' <<<"$hdr")"
check "HEAD body" 0 "$(curl -s --head "$base/files/small.txt" -o /dev/null -w '%{size_download}')"

# Conditional GET.
etag=$(curl -s -I "$base/files/small.txt" | tr -d '\r' | sed -n 's/^ETag: //Ip')
lm=$(curl -s -I "$base/files/small.txt" | tr -d '\r' | sed -n 's/^Last-Modified: //Ip')
check "If-None-Match" 304 "$(code -H "If-None-Match: $etag" "$base/files/small.txt")"
check "If-None-Match other" 200 "$(code -H 'If-None-Match: "x"' "$base/files/small.txt")"
check "If-Modified-Since" 304 "$(code -H "If-Modified-Since: $lm" "$base/files/small.txt")"
check "If-Modified-Since old" 200 \
	"$(code -H 'If-Modified-Since: Thu, 01 Jan 2015 00:00:00 GMT' "$base/files/small.txt")"
check "If-Range stale: whole" 200 \
	"$(code -r 0-1 -H 'If-Range: "old"' "$base/files/small.txt")"
check "If-Range current" 206 "$(code -r 0-1 -H "If-Range: $etag" "$base/files/small.txt")"

# Keep-alive: five requests, one connection.
ka=()
for u in small.txt small.txt sub/file nope images/worker/vmlinuz; do
	ka+=(-o /dev/null "$base/files/$u")
done
check "keep-alive" "1 0 0 0 0 " "$(curl -s -w '%{num_connects} ' "${ka[@]}")"

# Large file byte-exact with curl and wget, and a resumed download.
want=$(sha256sum <"$root/images/worker/vmlinuz" | cut -d' ' -f1)
check "curl large" "$want" "$(curl -s "$base/files/images/worker/vmlinuz" | sha256sum | cut -d' ' -f1)"
if command -v wget >/dev/null; then
	wget -q -O "$work/w" "$base/files/images/worker/vmlinuz"
	check "wget large" "$want" "$(sha256sum <"$work/w" | cut -d' ' -f1)"
	head -c 1000000 "$root/images/worker/vmlinuz" >"$work/partial"
	wget -q -c -O "$work/partial" "$base/files/images/worker/vmlinuz"
	check "wget -c resume" "$want" "$(sha256sum <"$work/partial" | cut -d' ' -f1)"
fi

# Traversal in every spelling: none may return the marker, none 200.
for p in \
	'/files/../outside.txt' '/files/../../outside.txt' \
	'/files/sub/../../outside.txt' '/files/%2e%2e/outside.txt' \
	'/files/%2E%2E/outside.txt' '/files/.%2e/outside.txt' \
	'/files/%2e./outside.txt' '/files/sub%2f..%2f..%2foutside.txt' \
	'/files/sub%2F%2E%2E%2F%2E%2E%2Foutside.txt' \
	'/files/%252e%252e/outside.txt' '/files/%252e%252e%252foutside.txt' \
	'/files/%25252e%25252e/outside.txt' \
	'/files/..\outside.txt' '/files/..%5coutside.txt' '/files/..%5Coutside.txt' \
	'/files/sub\..\..\outside.txt' '/files/%c0%ae%c0%ae/outside.txt' \
	'/files//outside.txt' '/files/%2foutside.txt' "/files/$work/outside.txt" \
	"/files/%2f${work#/}/outside.txt" '/files/escape-link' '/files/abs-link' \
	'/files/./small.txt' '/files/sub/./file' '/files/..' '/files/.' \
	'/files/%00' '/files/small.txt%00.png' '/../outside.txt' \
	'/%2e%2e/outside.txt' '/boot/../files/small.txt'; do
	body=$(curl -s --path-as-is "$base$p")
	st=$(code --path-as-is "$base$p")
	if grep -q OUTSIDE-MARKER <<<"$body" || [[ $st == 200 ]]; then
		echo "FAIL: traversal $p: status $st"
		fails=$((fails + 1))
	else
		echo "ok: traversal $p -> $st"
	fi
done
# Also on a raw socket (no client normalisation at all).
raw=$(python3 - "$http_port" <<'PY'
import socket, sys
out = b""
for t in [b"/files/../outside.txt", b"/files/..\\outside.txt",
          b"/files/%2e%2e%2foutside.txt", b"/files/sub/../../outside.txt"]:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET " + t + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
print("LEAK" if b"OUTSIDE-MARKER" in out else "clean")
PY
)
check "raw-socket traversal" clean "$raw"

kill -0 "$nb_pid" || { echo "FAIL: server died"; fails=$((fails + 1)); }
# A file others may not read is not public (a key, a payload: --root
# pointed at OUT rather than OUT/public): 403, never the bytes.
mkdir -p "$root/nodes/cp1"
printf 'secret: PRIVATE-%s\n' "$$" >"$root/nodes/cp1/firstboot.yaml"
chmod 600 "$root/nodes/cp1/firstboot.yaml"
check "0600 file refused" 403 "$(code "$base/files/nodes/cp1/firstboot.yaml")"
check "0600 file: no bytes" 0 "$(curl -s "$base/files/nodes/cp1/firstboot.yaml" | grep -c "PRIVATE-$$")"
chmod 644 "$root/nodes/cp1/firstboot.yaml"
check "0644 file served" 200 "$(code "$base/files/nodes/cp1/firstboot.yaml")"
finish
