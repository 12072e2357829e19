-- wrk script: POST the signed JSON bodies of a file (one per line), rotating over all of them.
-- Usage: wrk ... -s scripts/wrk-rotate.lua URL -- bodies.txt
-- No response() hook (it would copy every reply into Lua); scripts/restbodies -check verifies replies.
local bodies = {}
local i = 0

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  f:close()
  -- Each thread starts at a different place in the list.
  i = math.random(#bodies) - 1
end

function request()
  i = (i % #bodies) + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[i])
end
