#!/usr/bin/env bash
# tftp_clients.sh - real TFTP clients against metalboot-netboot on
# 127.0.0.1: tftp-hpa's tftp, curl (blksize 512/1468/65464), atftp (blksize
# and windowsize) and busybox tftp (-b), each fetching a small file, files
# that are an exact multiple of the block size (a final empty DATA) and
# files past the 16-bit block counter (rollover to 0), compared by sha256.
set -euo pipefail
. "$(dirname "$0")/tftp_lib.bash"
tftp_setup
tftp_need curl

root=$TFTP_WORK/root
out=$TFTP_WORK/out
mkdir -p "$root/sub" "$out"
tftp_mkfile "$root/small" 1000
tftp_mkfile "$root/empty" 0
tftp_mkfile "$root/x512" $((512 * 100))
tftp_mkfile "$root/x1468" $((1468 * 100))
tftp_mkfile "$root/x65464" $((65464 * 5))
tftp_mkfile "$root/sub/nested" 4321
# > 65535 blocks of 512 bytes: the block number wraps to 0.
tftp_mkfile "$root/big" $((40 * 1024 * 1024 + 17))
# > 65535 blocks of 1468 bytes (96.2 MB).
tftp_mkfile "$root/huge" $((100 * 1024 * 1024 + 3))
port=$(tftp_free_port)
# Two worker loops carry the transfers (the owner loop takes requests).
tftp_start "$root" "$port" --workers 2
url=tftp://127.0.0.1:$port

# curl 7.88 fails on an empty file against any server (tftpd-hpa too:
# "getpeername() failed"), so it gets no empty file here.
for f in small x512 x1468 x65464 sub/nested big; do
	for bs in 512 1468 65464; do
		o=$out/curl.$bs.${f//\//_}
		curl -sS --tftp-blksize "$bs" -o "$o" "$url/$f" || true
		tftp_same "$root/$f" "$o" "curl blksize $bs $f"
	done
done
curl -sS --tftp-blksize 1468 -o "$out/curl.huge" "$url/huge" || true
tftp_same "$root/huge" "$out/curl.huge" "curl blksize 1468 huge (rollover)"
# A leading slash and Windows separators map into the root.
curl -sS -o "$out/curl.slash" "$url//small" || true
tftp_same "$root/small" "$out/curl.slash" "curl /small"

if command -v tftp >/dev/null; then
	for f in small empty x512 sub/nested big; do
		o=$out/hpa.${f//\//_}
		(cd "$out" && tftp -m binary 127.0.0.1 "$port" \
			-c get "$f" "$o") || true
		tftp_same "$root/$f" "$o" "tftp-hpa $f"
	done
	(cd "$out" && tftp -m binary 127.0.0.1 "$port" \
		-c get 'sub\nested' "$out/hpa.bs") || true
	tftp_same "$root/sub/nested" "$out/hpa.bs" "tftp-hpa sub\\nested"
else
	echo "skip tftp-hpa (not installed)"
fi

if command -v atftp >/dev/null; then
	for spec in "512 1" "1468 1" "1468 4" "1468 16" "8192 8" "65464 16"; do
		read -r bs ws <<<"$spec"
		for f in small empty x512 x1468 x65464 big; do
			o=$out/atftp.$bs.$ws.$f
			atftp --option "blksize $bs" --option "windowsize $ws" \
				-g -r "$f" -l "$o" 127.0.0.1 "$port" \
				>/dev/null 2>&1 || true
			tftp_same "$root/$f" "$o" \
				"atftp blksize $bs windowsize $ws $f"
		done
	done
	atftp --option "blksize 1468" --option "windowsize 16" -g -r huge \
		-l "$out/atftp.huge" 127.0.0.1 "$port" >/dev/null 2>&1 || true
	tftp_same "$root/huge" "$out/atftp.huge" \
		"atftp blksize 1468 windowsize 16 huge (rollover)"
	atftp -g -r small -l "$out/atftp.plain" 127.0.0.1 "$port" \
		>/dev/null 2>&1 || true
	tftp_same "$root/small" "$out/atftp.plain" "atftp no options small"
else
	echo "skip atftp (not installed)"
fi

if command -v busybox >/dev/null && busybox tftp --help 2>&1 |
	grep -q -- -b; then
	for bs in 512 1468 65464; do
		for f in small empty x512 x1468 big; do
			o=$out/bb.$bs.$f
			busybox tftp -g -r "$f" -l "$o" -b "$bs" 127.0.0.1 \
				"$port" >/dev/null 2>&1 || true
			tftp_same "$root/$f" "$o" "busybox tftp -b $bs $f"
		done
	done
else
	echo "skip busybox tftp (not installed or no -b)"
fi

tftp_stop
if ((TFTP_FAILS > 0)); then
	echo "$TFTP_FAILS failure(s); server log:"
	tail -40 "$TFTP_WORK/server.log"
	exit 1
fi
echo "all transfers identical"
