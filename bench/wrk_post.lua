-- wrk script: POST the generate-svg body, rotating through the users' bearer tokens.
-- wrk -t1 -c64 -d8s -s bench/wrk_post.lua URL -- TOKENS_FILE BODY_FILE
-- Requests are formatted once per token in init(); done() prints one JSON line (latencies in us).
local requests = {}
local counter = 0

function init(args)
  local body_file = io.open(args[2], "r")
  local body = body_file:read("*a")
  body_file:close()
  for token in io.lines(args[1]) do
    local headers = { ["Content-Type"] = "application/json", ["User-Agent"] = "chatsvg-bench" }
    if token ~= "-" then
      headers["Authorization"] = "Bearer " .. token
    end
    requests[#requests + 1] = wrk.format("POST", nil, headers, body)
  end
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, errors.status, errors.connect, errors.read, errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
