-- count_by_key.lua — count records per partition key, per shard, and
-- checkpoint every CHECKPOINT_EVERY records or every CHECKPOINT_MS
-- milliseconds, whichever comes first (logging the counts each time).
local kcl = require "luakcl"

local config = {
  checkpoint_every = 1000,   -- records
  checkpoint_ms = 60000,     -- milliseconds
  top = 10,                  -- keys shown in the log
}

local P = {config = config}

local function top_keys(counts, n)
  local keys = {}
  for k in pairs(counts) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return a < b
  end)
  local parts = {}
  for i = 1, math.min(n, #keys) do parts[i] = keys[i] .. "=" .. counts[keys[i]] end
  return table.concat(parts, " ")
end

function P:initialize(input)
  self.counts = {}
  self.total = 0
  self.since_checkpoint = 0
  self.last_checkpoint_ms = kcl.now()
end

function P:checkpoint(checkpointer)
  local ok, err = checkpointer:checkpoint()
  if ok then
    kcl.log.info("count_by_key: checkpoint", {total = self.total, top = top_keys(self.counts, config.top)})
    self.since_checkpoint = 0
    self.last_checkpoint_ms = kcl.now()
  else
    kcl.log.warn("count_by_key: checkpoint failed", {error = err})
  end
  return ok, err
end

function P:process_records(input)
  local counts = self.counts
  for _, r in ipairs(input.records) do
    local k = r.partition_key
    counts[k] = (counts[k] or 0) + 1
  end
  self.total = self.total + #input.records
  self.since_checkpoint = self.since_checkpoint + #input.records
  if self.since_checkpoint >= config.checkpoint_every
      or kcl.now() - self.last_checkpoint_ms >= config.checkpoint_ms then
    self:checkpoint(input.checkpointer)
  end
end

function P:shutdown(input)
  if input.reason == "TERMINATE" or input.reason == "REQUESTED" then
    self:checkpoint(input.checkpointer)
  end
end

-- Counts survive a hot reload (self is kept); nothing to migrate.
function P:on_reload()
  kcl.log.info("count_by_key: code reloaded", {total = self.total})
end

return P
