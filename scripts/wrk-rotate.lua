-- wrk script: POST the signed JSON bodies of a file (one per line), rotating over all of them.
-- Usage: wrk ... -s scripts/wrk-rotate.lua URL -- bodies.txt
-- Requests are formatted once in init (cheap request()); no response() hook (it would copy every
-- reply into Lua): scripts/restbodies -check verifies the replies before the timed runs.
local requests = {}
local i = 0

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, line)
    end
  end
  f:close()
  -- Each thread starts at a different place in the list.
  i = math.random(#requests) - 1
end

function request()
  i = (i % #requests) + 1
  return requests[i]
end
