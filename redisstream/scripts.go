package redisstream

import "github.com/redis/go-redis/v9"

// appendScript appends a batch of entries, fenced by the lease.
//
// KEYS: lease, stream, files index, meta.
// ARGV: token, maxlen, expect ("1": the stream must exist; its absence means Redis lost it),
// epoch (of a history this batch begins), refilled ("" or the epoch whose refill this batch
// completes), then per entry: id, cursor, frame, file field ("" unless the entry is the first
// of its file).
//
// Entries already present (an append repeated after a crash or a lost reply) are skipped: Redis
// refuses an ID not above the top one. The index loses the files that are wholly trimmed away.
// Replies the number of entries added, or an error starting with NOLEASE or RESET.
var appendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('NOLEASE this ingress does not hold the lease ' .. KEYS[1])
end
local exists = redis.call('EXISTS', KEYS[2]) == 1
if ARGV[3] == '1' and not exists then
  return redis.error_reply('RESET stream ' .. KEYS[2] .. ' is gone')
end
if not exists and redis.call('HGET', KEYS[4], 'epoch') ~= ARGV[4] then
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[4], 'epoch', ARGV[4], 'refilled', '0')
end
local added = 0
local newfile = false
for i = 6, #ARGV, 4 do
  local id = ARGV[i]
  local r = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], id, 'cursor', ARGV[i+1], 'frame', ARGV[i+2])
  if type(r) == 'table' and r.err then
    if not string.find(r.err, 'equal or smaller', 1, true) then
      return r
    end
  else
    added = added + 1
  end
  if ARGV[i+3] ~= '' then
    redis.call('HSET', KEYS[3], ARGV[i+3], string.match(id, '^(%d+)-'))
    newfile = true
  end
end
if newfile then
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
  if #first > 0 then
    local fms = string.match(first[1][1], '^(%d+)-')
    local all = redis.call('HGETALL', KEYS[3])
    for j = 1, #all, 2 do
      local ms = all[j+1]
      if #ms < #fms or (#ms == #fms and ms < fms) then
        redis.call('HDEL', KEYS[3], all[j])
      end
    end
  end
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[4], 'refilled', ARGV[5])
end
return added
`)

// renewScript extends the lease if this token still holds it: 1, else 0.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript deletes the lease if this token holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)
