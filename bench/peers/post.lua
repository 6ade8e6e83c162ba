-- wrk script: POSTs the webhook form body (the file named by $BENCH_BODY) on every request
-- and prints one machine-readable summary line (prefix BENCH_JSON) for bench.py.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
wrk.headers["Accept"] = "application/xml, text/xml"
wrk.headers["User-Agent"] = "Apache-HttpClient/4.5.13 (Java/11.0.16)"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.mean,
    latency.max))
end
