-- wrk script for every bench run: optional random incident ids, a non-200 count, and one
-- parseable result line (wrk's own --latency table has no p95).
--
--   wrk ... -s bench/bench.lua URL                      -- requests URL's path as given
--   wrk ... -s bench/bench.lua URL -- ids FIRST LAST    -- /incidents/<random id in FIRST..LAST>
--   wrk ... -s bench/bench.lua URL -- ids FIRST LAST P  -- P<random id in FIRST..LAST>
--   wrk ... -s bench/bench.lua URL -- paths FILE        -- FILE's paths (one a line), in turn

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("thread_number", counter)
   table.insert(threads, thread)
end

function init(args)
   non200 = 0
   first_bad = ""
   mode = args[1] or "path"
   if mode == "ids" then
      first_id, last_id = tonumber(args[2]), tonumber(args[3])
      id_prefix = args[4] or "/incidents/"
      -- Each thread its own fixed sequence: runs are repeatable, threads do not overlap.
      math.randomseed(1000 + thread_number)
   elseif mode == "paths" then
      paths = {}
      for line in io.lines(args[2]) do
         if line ~= "" then table.insert(paths, line) end
      end
      -- Threads start at different places in the list, each goes round it in order.
      next_path = (thread_number * 37) % #paths
   end
end

function request()
   if mode == "ids" then
      return wrk.format(nil, id_prefix .. math.random(first_id, last_id))
   elseif mode == "paths" then
      next_path = next_path % #paths + 1
      return wrk.format(nil, paths[next_path])
   end
   return wrk.format(nil, wrk.path)
end

function response(status, headers, body)
   if status ~= 200 then
      non200 = non200 + 1
      if first_bad == "" then
         first_bad = tostring(status) .. " " .. (headers["Location"] or "")
      end
   end
end

function done(summary, latency, requests)
   local bad, example = 0, ""
   for _, thread in ipairs(threads) do
      bad = bad + thread:get("non200")
      if example == "" then example = thread:get("first_bad") end
   end
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "BENCH_RESULT {\"requests\": %d, \"seconds\": %.3f, \"rps\": %.1f, " ..
      "\"p50_ms\": %.2f, \"p75_ms\": %.2f, \"p90_ms\": %.2f, \"p95_ms\": %.2f, \"p99_ms\": %.2f, " ..
      "\"max_ms\": %.2f, \"mean_ms\": %.2f, \"non200\": %d, \"first_non200\": \"%s\", " ..
      "\"socket_errors\": %d, \"wrk_status_errors\": %d}\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(75) / 1000, latency:percentile(90) / 1000,
      latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      latency.mean / 1000, bad, example,
      e.connect + e.read + e.write + e.timeout, e.status))
end
