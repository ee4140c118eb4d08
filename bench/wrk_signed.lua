-- wrk script for bench.sms_webhook: replays pre-signed Twilio webhook requests.
--   wrk ... -s bench/wrk_signed.lua URL -- POOL_FILE THREADS
-- POOL_FILE holds one request a line: "<X-Twilio-Signature>\t<urlencoded body>". Thread k
-- of THREADS sends lines k, k+THREADS, … once each, so no MessageSid is sent twice
-- unless the pool runs out (then it wraps, and the result says so). Every response is
-- checked: HTTP 200 and a <Message> in the body, else it counts as bad.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, count = args[1], tonumber(args[2])
  reqs, sent, bad, pool = {}, 0, 0, 0
  local i = 0
  for line in io.lines(path) do
    if i % count == tid then
      local sig, body = line:match("^([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = sig,
      }, body)
    end
    i = i + 1
  end
  pool = #reqs
end

function request()
  sent = sent + 1
  return reqs[((sent - 1) % pool) + 1]
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, "<Message>", 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total_sent, total_bad, total_pool = 0, 0, 0
  for _, t in ipairs(threads) do
    total_sent = total_sent + t:get("sent")
    total_bad = total_bad + t:get("bad")
    total_pool = total_pool + t:get("pool")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "sent": %d, "bad": %d, ' ..
    '"pool": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"status_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d, "mean_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, total_sent, total_bad, total_pool,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
