#!/usr/bin/env python3
"""etcd_store.py - the measuring half of bench/etcd_store.sh (run inside the
bench's network namespaces only; every loop is bounded in time).

  etcd_store.py latency URL N
        N GETs of URL one after another, a connection each; prints JSON
        {n, failed, bytes, p50_ms, p95_ms, p99_ms, max_ms}
  etcd_store.py sample BASE OUT STOPFILE [NODES_EVERY]
        every 0.2 s until STOPFILE exists (600 s at most): BASE/metrics's
        metalboot_store_etcd_* samples and the namespace's connections to
        etcd (port 2379); with NODES_EVERY (seconds) also a
        timed GET of BASE/v1/nodes that often, noting when each node's
        latest change first shows there. Writes OUT (JSON) when it stops.
  etcd_store.py demand NODES_JSON T0 T1
        the writes a storm asks of the store, from a server's /v1/nodes
        after the storm: every timeline entry between T0 and T1 (epoch
        seconds) is a change; a node changed within a second is a write
        once a second's changes are coalesced (NODES_FLUSH_INTERVAL_MS).
        Rates are per second in which anything changed. Prints JSON.
  etcd_store.py converge REF_JSON URL SINCE TIMEOUT
        poll URL (a /v1/nodes) until every node of REF_JSON shows there as
        in REF_JSON; prints JSON {seconds (since SINCE, epoch), matched,
        total, polls}
  etcd_store.py txns CA CERT KEY ENDPOINTS
        transactions the members answered so far (their /metrics)
  etcd_store.py recsize CA CERT KEY ENDPOINT PREFIX
        sizes of the node records under PREFIX/v1/nodes/ (JSON gateway)
  etcd_store.py load CA CERT KEY ENDPOINTS PREFIX SIZE PROCS THREADS SECONDS
        [BATCH]
        PROCS x THREADS connections (spread over the comma-separated
        ENDPOINTS) each writing SIZE-byte values one after another for
        SECONDS, by the transaction the server writes node records with
        (compare mod_revision, put; create-only for a new key), on 1,000
        keys under PREFIX; with BATCH, that many records' compares and
        puts in one transaction. Prints JSON {ops (records written),
        per_s, p50_ms, p99_ms (per transaction), client_cpu_s, ...}
  etcd_store.py drain BASE MIN_WRITES TIMEOUT
        poll BASE/metrics every 0.1 s until the etcd queue is empty with
        store_etcd_writes_total >= MIN_WRITES; prints JSON {seconds (from
        the first write queued), writes, conflicts, errors, per_s}
  etcd_store.py report DIR [--json]
        the summary of the JSON files bench/etcd_store.sh left in DIR
"""
import base64
import calendar
import http.client
import json
import multiprocessing
import os
import resource
import ssl
import sys
import threading
import time
import urllib.parse


def pct(v, p):
    """Nearest-rank percentile of a sorted list."""
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def summary(ms):
    ms = sorted(ms)
    out = {"n": len(ms)}
    for p in (50, 95, 99):
        out["p%d_ms" % p] = round(pct(ms, p), 2) if ms else None
    out["max_ms"] = round(ms[-1], 2) if ms else None
    return out


def get(url, timeout=10):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        c.request("GET", u.path or "/", headers={"Connection": "close"})
        r = c.getresponse()
        body = r.read()
        return r.status, body
    finally:
        c.close()


def timed_get(url):
    t = time.monotonic()
    status, body = get(url)
    return (time.monotonic() - t) * 1000.0, status, body


def cmd_latency(url, n):
    ms, failed, size = [], 0, 0
    deadline = time.monotonic() + 300
    for _ in range(int(n)):
        if time.monotonic() > deadline:
            break
        try:
            t, status, body = timed_get(url)
        except OSError:
            failed += 1
            continue
        if status != 200:
            failed += 1
            continue
        ms.append(t)
        size = len(body)
    out = summary(ms)
    out.update({"failed": failed, "bytes": size})
    print(json.dumps(out))


def iso_ms(s):
    """'2026-12-03T07:00:00.123Z' -> ms since the epoch."""
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 \
        + int(s[20:23])


def node_latest(n):
    t = 0
    tl = n.get("timeline") or []
    if tl:
        t = iso_ms(tl[-1]["time"])
    ev = n.get("last_event")
    if ev:
        t = max(t, iso_ms(ev["time"]))
    return t


def metrics(base):
    status, body = get(base + "/metrics", timeout=5)
    out = {}
    if status != 200:
        return out
    for line in body.decode().splitlines():
        if line.startswith("metalboot_store_etcd_"):
            k, v = line.split()[:2]
            out[k[len("metalboot_store_etcd_"):]] = float(v)
    return out


def etcd_conns():
    """This namespace's TCP connections to port 2379 (etcd's clients):
    their local ports, from /proc/net/tcp."""
    ports = set()
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                loc, rem = line.split()[1:3]
                if rem.endswith(":094B"):
                    ports.add(int(loc.split(":")[1], 16))
    except OSError:
        pass
    return ports


def cmd_sample(base, out, stopfile, nodes=0.0):
    series, gets, lags, seen = [], [], [], {}
    conns = set()
    t_end = time.monotonic() + 600
    next_nodes = 0.0
    while time.monotonic() < t_end and not os.path.exists(stopfile):
        now = time.time()
        try:
            m = metrics(base)
            m["t"] = now
            series.append(m)
        except OSError:
            pass
        conns |= etcd_conns()
        if nodes and time.monotonic() >= next_nodes:
            next_nodes = time.monotonic() + nodes
            try:
                t, status, body = timed_get(base + "/v1/nodes")
                seen_at = time.time() * 1000.0
                if status == 200:
                    gets.append(t)
                    for n in json.loads(body)["nodes"]:
                        lt = node_latest(n)
                        if lt > seen.get(n["mac"], 0):
                            seen[n["mac"]] = lt
                            lags.append(seen_at - lt)
            except (OSError, ValueError):
                pass
        if len(series) == 1:
            open(out + ".ready", "w").close()
        time.sleep(0.2)
    with open(out, "w") as f:
        json.dump({"series": series, "get_ms": gets, "lag_ms": lags,
                   "etcd_connections": len(conns)}, f)


def cmd_drain(base, min_writes, timeout):
    deadline = time.monotonic() + float(timeout)
    first = None
    m0 = None
    m = {}
    while time.monotonic() < deadline:
        try:
            m = metrics(base)
        except OSError:
            time.sleep(0.1)
            continue
        if m0 is None:
            m0 = m
        if first is None and (m.get("queued_writes", 0) > 0 or
                              m.get("writes_total", 0) > 0):
            first = (time.monotonic(), m)
        if first is None and float(min_writes) == 0 and \
                m.get("queued_writes", 1) == 0 and \
                time.monotonic() > deadline - float(timeout) + 2:
            # Nothing to write (a start that finds etcd up to date).
            first = (time.monotonic(), m)
        if first is not None and m.get("queued_writes", 1) == 0 and \
                m.get("writes_total", 0) >= float(min_writes):
            secs = time.monotonic() - first[0]
            w = m["writes_total"] - first[1].get("writes_total", 0)
            print(json.dumps({
                "seconds": round(secs, 2),
                "writes": int(m["writes_total"]),
                "conflicts": int(m.get("conflicts_total", 0)),
                "errors": int(m.get("errors_total", 0)),
                "per_s": round(w / secs, 1) if secs > 0 else None}))
            return
        time.sleep(0.1)
    print(json.dumps({"seconds": None, "writes": int(m.get(
        "writes_total", 0)), "queued": int(m.get("queued_writes", 0))}))


def cmd_demand(path, t0, t1):
    t0, t1 = float(t0) * 1000, float(t1) * 1000
    with open(path) as f:
        nodes = json.load(f)["nodes"]
    changes, per_sec = 0, {}
    for n in nodes:
        secs = set()
        for e in n.get("timeline") or []:
            t = iso_ms(e["time"])
            if t0 - 1000 <= t <= t1 + 1000:
                changes += 1
                secs.add(t // 1000)
        for s in secs:
            per_sec[s] = per_sec.get(s, 0) + 1
    writes = sum(per_sec.values())
    # Per second of the storm: the seconds in which anything changed.
    secs = max(1, len(per_sec))
    print(json.dumps({
        "nodes": len(nodes), "changes": changes,
        "changes_per_s": round(changes / secs, 1),
        "writes": writes, "writes_per_s": round(writes / secs, 1),
        "peak_writes_per_s": max(per_sec.values()) if per_sec else 0,
        "seconds": secs}))


def cmd_converge(ref, url, since, timeout):
    with open(ref) as f:
        want = {n["mac"]: n for n in json.load(f)["nodes"]}
    deadline = time.monotonic() + float(timeout)
    polls, matched = 0, 0
    while time.monotonic() < deadline:
        polls += 1
        try:
            status, body = get(url)
            if status == 200:
                got = {n["mac"]: n for n in json.loads(body)["nodes"]}
                matched = sum(1 for m, n in want.items() if got.get(m) == n)
                if matched == len(want):
                    print(json.dumps({
                        "seconds": round(time.time() - float(since), 2),
                        "matched": matched, "total": len(want),
                        "polls": polls}))
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    print(json.dumps({"seconds": None, "matched": matched,
                      "total": len(want), "polls": polls}))


# ---- etcd's JSON gateway


def tls_ctx(ca, cert, key):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)
    return ctx


def b64(b):
    return base64.b64encode(b).decode()


def gw_post(conn, path, body):
    conn.request("POST", path, body=body,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise OSError("etcd: HTTP %d: %s" % (r.status, data[:200]))
    return json.loads(data)


def gw_conn(ctx, endpoint):
    u = urllib.parse.urlsplit(endpoint)
    return http.client.HTTPSConnection(u.hostname, u.port, context=ctx,
                                       timeout=10)


def prefix_end(p):
    b = bytearray(p)
    b[-1] += 1
    return bytes(b)


def cmd_recsize(ca, cert, key, endpoint, prefix):
    d = (prefix.rstrip("/") + "/v1/nodes/").encode()
    c = gw_conn(tls_ctx(ca, cert, key), endpoint)
    r = gw_post(c, "/v3/kv/range", json.dumps(
        {"key": b64(d), "range_end": b64(prefix_end(d))}))
    sizes = sorted(len(base64.b64decode(kv["value"]))
                   for kv in r.get("kvs", []))
    print(json.dumps({"records": len(sizes),
                      "mean": round(sum(sizes) / len(sizes)) if sizes else 0,
                      "p50": pct(sizes, 50), "max": sizes[-1] if sizes
                      else 0}))


def cmd_txns(ca, cert, key, endpoints):
    """Transactions etcd's members have answered (grpc_server_handled_total
    of Txn, summed over the members: each counts those it received)."""
    ctx = tls_ctx(ca, cert, key)
    total = 0
    for ep in endpoints.split(","):
        c = gw_conn(ctx, ep)
        c.request("GET", "/metrics")
        for line in c.getresponse().read().decode().splitlines():
            if line.startswith("grpc_server_handled_total{") and \
                    'grpc_method="Txn"' in line:
                total += int(float(line.split()[-1]))
        c.close()
    print(total)


def cas_body(batch, vb, revs):
    """etcd_req_cas's transaction (netboot/etcd.c), for every key of
    batch at once."""
    cmps, puts, ranges = [], [], []
    for kb in batch:
        if revs[kb] == 0:
            cmps.append({"key": kb, "target": "CREATE", "result": "EQUAL",
                         "create_revision": "0"})
        else:
            cmps.append({"key": kb, "target": "MOD", "result": "EQUAL",
                         "mod_revision": str(revs[kb])})
        puts.append({"request_put": {"key": kb, "value": vb}})
        ranges.append({"request_range": {"key": kb}})
    return json.dumps({"compare": cmps, "success": puts,
                       "failure": ranges})


def load_thread(ctx, endpoint, keys, vb, batch, t_end, out):
    conn = gw_conn(ctx, endpoint)
    revs = {k: 0 for k in keys}
    ms, ops, lost, errors = [], 0, 0, 0
    i = 0
    while time.monotonic() < t_end:
        b = [keys[(i + j) % len(keys)] for j in range(batch)]
        i += batch
        t = time.monotonic()
        try:
            r = gw_post(conn, "/v3/kv/txn", cas_body(b, vb, revs))
        except (OSError, http.client.HTTPException, ValueError):
            errors += 1
            conn.close()
            conn = gw_conn(ctx, endpoint)
            continue
        ms.append((time.monotonic() - t) * 1000.0)
        if r.get("succeeded"):
            ops += len(b)
            for k in b:
                revs[k] = int(r["header"]["revision"])
        else:
            lost += 1
            for k, resp in zip(b, r["responses"]):
                kvs = resp["response_range"].get("kvs", [])
                revs[k] = int(kvs[0]["mod_revision"]) if kvs else 0
    conn.close()
    out.append((ops, lost, errors, ms))


def load_proc(args, proc, q):
    (ca, cert, key, endpoints, prefix, size, procs, threads, seconds,
     batch) = args
    ctx = tls_ctx(ca, cert, key)
    eps = endpoints.split(",")
    # A JSON record-like value of SIZE bytes (what a node record looks
    # like to etcd: printable text).
    val = (b'{"state":"provisioning","timeline":[' +
           b"x" * size)[:size]
    vb = b64(val)
    t_end = time.monotonic() + seconds
    res, ths = [], []
    for t in range(threads):
        cid = proc * threads + t
        nkeys = max(batch, 1000 // (procs * threads))
        keys = [b64(("%s/load/%04d/%04d" % (prefix.rstrip("/"), cid, j))
                    .encode()) for j in range(nkeys)]
        th = threading.Thread(target=load_thread, args=(
            ctx, eps[cid % len(eps)], keys, vb, batch, t_end, res))
        th.start()
        ths.append(th)
    for th in ths:
        th.join()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    ops = sum(r[0] for r in res)
    q.put({"ops": ops, "lost": sum(r[1] for r in res),
           "errors": sum(r[2] for r in res),
           "ms": [x for r in res for x in r[3]],
           "cpu": ru.ru_utime + ru.ru_stime})


def cmd_load(ca, cert, key, endpoints, prefix, size, procs, threads,
             seconds, batch=1):
    size, procs, threads = int(size), int(procs), int(threads)
    batch = max(1, min(int(batch), 64))  # etcd's --max-txn-ops is 128
    seconds = min(float(seconds), 120.0)
    args = (ca, cert, key, endpoints, prefix, size, procs, threads, seconds,
            batch)
    q = multiprocessing.Queue()
    t0 = time.monotonic()
    ps = [multiprocessing.Process(target=load_proc, args=(args, i, q))
          for i in range(procs)]
    for p in ps:
        p.start()
    res = [q.get(timeout=seconds + 60) for _ in ps]
    for p in ps:
        p.join()
    wall = time.monotonic() - t0
    ops = sum(r["ops"] for r in res)
    out = summary([x for r in res for x in r["ms"]])
    out.update({"ops": ops, "per_s": round(ops / seconds, 1),
                "lost": sum(r["lost"] for r in res),
                "errors": sum(r["errors"] for r in res),
                "connections": procs * threads, "size": size,
                "batch": batch,
                "seconds": seconds, "wall_s": round(wall, 2),
                "client_cpu_s": round(sum(r["cpu"] for r in res), 2)})
    print(json.dumps(out))


def jload(d, name):
    try:
        with open(os.path.join(d, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def storm_writes(series, t0, t1, base=None):
    """What the writer did from t0 on: writes, peak writes/s over 1 s,
    peak queue, when the queue was last non-empty. base: the counters
    before the storm when known (the start's drain), else the first
    sample's."""
    s = [x for x in series if x["t"] >= t0 - 0.25]
    if not s:
        return {}
    b0 = dict(s[0])
    if base and base.get("writes") is not None:
        b0["writes_total"] = base["writes"]
        b0["conflicts_total"] = base.get("conflicts", 0)
        b0["errors_total"] = base.get("errors", 0)
    w0 = b0.get("writes_total", 0)
    last = s[-1]
    busy = [x["t"] for x in s if x.get("queued_writes", 0) > 0]
    grew = [x["t"] for i, x in enumerate(s[1:], 1)
            if x.get("writes_total", 0) > s[i - 1].get("writes_total", 0)]
    peak, j = 0.0, 0
    for i, x in enumerate(s):
        while j < len(s) and s[j]["t"] < x["t"] + 1.0:
            j += 1
        if j == len(s):
            break
        dt = s[j]["t"] - x["t"]
        peak = max(peak, (s[j].get("writes_total", 0) -
                          x.get("writes_total", 0)) / dt)
    span = (grew[-1] - t0) if grew else 0
    writes = int(last.get("writes_total", 0) - w0)
    # The writer's pace while it had work: over the sample intervals that
    # began with writes queued; each lost compare is one more transaction.
    bw = bt = btx = 0.0
    for a, b in zip(s, s[1:]):
        if a.get("queued_writes", 0) > 0:
            dw = b.get("writes_total", 0) - a.get("writes_total", 0)
            bw += dw
            btx += dw + b.get("conflicts_total", 0) - \
                a.get("conflicts_total", 0)
            bt += b["t"] - a["t"]
    return {
        "writes": writes,
        "conflicts": int(last.get("conflicts_total", 0) -
                         b0.get("conflicts_total", 0)),
        "errors": int(last.get("errors_total", 0) -
                      b0.get("errors_total", 0)),
        "records_received": int(last.get("records_total", 0) -
                                s[0].get("records_total", 0)),
        "per_s": round(writes / span, 1) if span > 0 else 0,
        "peak_per_s": round(peak, 1),
        "peak_queued": int(max(x.get("queued_writes", 0) for x in s)),
        "busy_s": round(bt, 1),
        "busy_per_s": round(bw / bt, 1) if bt > 0 else None,
        "busy_txn_per_s": round(btx / bt, 1) if bt > 0 else None,
        "drained_after_storm_s": round(max(0.0, busy[-1] + 0.2 - t1), 2)
        if busy else 0.0,
        "last_write_after_storm_s": round(grew[-1] - t1, 2) if grew
        else None}


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def cmd_report(d, as_json):
    meta = jload(d, "meta.json") or {}
    t0, t1 = meta.get("storm_t0", 0), meta.get("storm_t1", 0)
    storm = jload(d, "storm.json") or {}
    sa, sb = jload(d, "sa.json") or {}, jload(d, "sb.json") or {}
    demand = jload(d, "demand.json") or {}
    conv = jload(d, "converge.json") or {}
    wa = storm_writes(sa.get("series", []), t0, t1,
                      jload(d, "start_a.json"))
    wb = storm_writes(sb.get("series", []), t0, t1)
    loads = {}
    for f in sorted(os.listdir(d)):
        if f.startswith("load_") and f.endswith(".json"):
            loads[f[5:-5]] = jload(d, f)
    serial = (loads.get("1x1") or {}).get("per_s")
    best = max((v.get("per_s", 0) for v in loads.values()
                if v and v.get("batch", 1) == 1), default=None)
    batched = max((v.get("per_s", 0) for v in loads.values()
                   if v and v.get("batch", 1) > 1), default=None)
    need = demand.get("peak_writes_per_s")
    r = {
        "meta": meta,
        "startup": {"a": jload(d, "start_a.json"),
                    "b": jload(d, "start_b.json")},
        "etcd_transactions": jload(d, "txns.json"),
        "storm": {"served": storm.get("served"), "n": meta.get("n"),
                  "wall_s": storm.get("wall_s"),
                  "failures": storm.get("failures")},
        "needed": demand,
        "server_a_writes": wa,
        "server_b": wb,
        "propagation": {
            "b_converged_after_storm_s": conv.get("seconds"),
            "b_matched": conv.get("matched"),
            "b_lag_ms": summary([x for x in sb.get("lag_ms", [])
                                 if x >= 0])},
        "nodes_get": {"a": jload(d, "lat_a.json"),
                      "b": jload(d, "lat_b.json"),
                      "a_during_storm": summary(sa.get("get_ms", [])),
                      "b_during_storm": summary(sb.get("get_ms", []))},
        "record_size": jload(d, "recsize.json"),
        "etcd_sustained": loads,
        "ratio": {
            "needed_peak_over_etcd_best": ratio(need, best),
            "needed_peak_over_one_writer": ratio(need, serial),
            "needed_avg_over_etcd_best": ratio(
                demand.get("writes_per_s"), best),
            "needed_peak_over_etcd_batched": ratio(need, batched),
            "server_peak_over_etcd_best": ratio(wa.get("peak_per_s"),
                                                best)},
    }
    if as_json:
        print(json.dumps(r, indent=1))
        return
    P = print
    st = r["startup"]
    P("== %s nodes in etcd (3 members, TLS), 2 servers; %s" % (
        meta.get("n"), meta.get("machine", "")))
    tx = jload(d, "txns.json") or {}
    for k in ("a", "b"):
        x = st[k] or {}
        P("  start, server %s: %s records written in %s s (%s/s), "
          "%s transactions" % (k.upper(), x.get("writes"),
                               x.get("seconds"), x.get("per_s"),
                               tx.get("start_" + k)))
    P("-- boot storm against A: %s/%s machines served in %.1f s, %s events "
      "each; UDP receive-buffer drops: %s" % (
          storm.get("served"), meta.get("n"), storm.get("wall_s") or 0,
          meta.get("events"), meta.get("udp_drops")))
    if storm.get("failures"):
        P("  failures: %s" % json.dumps(storm["failures"]))
    P("  needed: %s changes (%s/s); coalesced a write per node per second: "
      "%s writes, %s/s (over the seconds with changes), peak %s/s" % (
          demand.get("changes"), demand.get("changes_per_s"),
          demand.get("writes"), demand.get("writes_per_s"),
          demand.get("peak_writes_per_s")))
    P("  server A wrote: %s records, %s/s, peak %s/s; queue peak %s, "
      "empty %s s after the storm; %s compares lost, %s errors" % (
          wa.get("writes"), wa.get("per_s"), wa.get("peak_per_s"),
          wa.get("peak_queued"), wa.get("drained_after_storm_s"),
          wa.get("conflicts"), wa.get("errors")))
    P("  A's writer while its queue held writes (%s s): %s records/s, "
      "%s transactions/s; etcd answered %s transactions from the storm's "
      "start until the queue was empty" % (
          wa.get("busy_s"), wa.get("busy_per_s"), wa.get("busy_txn_per_s"),
          tx.get("storm")))
    P("  server B: %s records received by its watch, %s written" % (
        wb.get("records_received"), wb.get("writes")))
    P("  connections to etcd seen while sampling (every 0.2 s): A %s, "
      "B %s" % (sa.get("etcd_connections"), sb.get("etcd_connections")))
    lag = r["propagation"]["b_lag_ms"]
    P("  propagation: every node's final state on B's /v1/nodes %s s after "
      "the storm (%s/%s nodes); a change seen on B after p50 %s ms, "
      "p99 %s ms, max %s ms (0.5 s polls)" % (
          conv.get("seconds"), conv.get("matched"), meta.get("n"),
          lag.get("p50_ms"), lag.get("p99_ms"), lag.get("max_ms")))
    P("-- GET /v1/nodes, %s nodes" % meta.get("n"))
    for k, name in (("a", "A (idle)"), ("b", "B (idle)"),
                    ("a_during_storm", "A, storm"),
                    ("b_during_storm", "B, storm")):
        x = r["nodes_get"][k] or {}
        P("  %-9s n %4s  p50 %7s ms  p95 %7s ms  p99 %7s ms  max %7s ms%s" % (
            name, x.get("n"), x.get("p50_ms"), x.get("p95_ms"),
            x.get("p99_ms"), x.get("max_ms"),
            "  (%s bytes)" % x["bytes"] if x.get("bytes") else ""))
    rs = r["record_size"] or {}
    P("-- etcd, the server's compare-and-swap, %s-byte values "
      "(node records: mean %s, max %s bytes)" % (
          (next(iter(loads.values()), None) or {}).get("size"),
          rs.get("mean"), rs.get("max")))
    for k, v in loads.items():
        v = v or {}
        P("  %3s connection%s, %2s record%s a transaction: %7s records/s, "
          "p50 %s ms, p99 %s ms, %s errors, client CPU %s s" % (
              v.get("connections"), "s" if v.get("connections") != 1
              else " ", v.get("batch"), "s" if v.get("batch") != 1
              else " ", v.get("per_s"), v.get("p50_ms"), v.get("p99_ms"),
              v.get("errors"), v.get("client_cpu_s")))
    ra = r["ratio"]
    P("== needed / sustained")
    P("  storm peak (%s/s) / etcd's best (%s/s): %s" % (
        need, best, ra["needed_peak_over_etcd_best"]))
    P("  storm peak / one connection, one write at a time (the server's "
      "writer, %s/s): %s" % (serial, ra["needed_peak_over_one_writer"]))
    P("  storm average (%s/s) / etcd's best: %s" % (
        demand.get("writes_per_s"), ra["needed_avg_over_etcd_best"]))
    if batched:
        P("  storm peak / etcd with several records a transaction "
          "(%s/s): %s" % (batched, ra["needed_peak_over_etcd_batched"]))


def main(a):
    if len(a) < 2:
        sys.exit(__doc__)
    cmd, rest = a[1], a[2:]
    if cmd == "latency" and len(rest) == 2:
        cmd_latency(*rest)
    elif cmd == "sample" and len(rest) in (3, 4):
        cmd_sample(rest[0], rest[1], rest[2],
                   float(rest[3]) if len(rest) == 4 else 0.0)
    elif cmd == "demand" and len(rest) == 3:
        cmd_demand(*rest)
    elif cmd == "converge" and len(rest) == 4:
        cmd_converge(*rest)
    elif cmd == "txns" and len(rest) == 4:
        cmd_txns(*rest)
    elif cmd == "recsize" and len(rest) == 5:
        cmd_recsize(*rest)
    elif cmd == "drain" and len(rest) == 3:
        cmd_drain(*rest)
    elif cmd == "report" and len(rest) in (1, 2):
        cmd_report(rest[0], rest[1:] == ["--json"])
    elif cmd == "load" and len(rest) in (9, 10):
        cmd_load(*rest)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
