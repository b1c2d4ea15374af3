-- forward.lua — read JSON records, transform them, and put them into another
-- stream (config.target_stream), then checkpoint. Records that are not JSON
-- objects are logged and skipped. Failed puts are retried with backoff; if
-- some still fail, the callback fails (nothing is checkpointed, the batch is
-- retried by the runtime's error policy).
local kcl = require "luakcl"
local cjson = require "cjson"

local config = {
  target_stream = "forwarded-events",
  max_batch = 500,          -- PutRecords limit
  max_attempts = 4,
  backoff_ms = 100,
}

local P = {config = config}

-- The transformation: keep the object, add provenance.
function P.transform(obj, record, shard_id)
  obj.forwarded_from = shard_id
  obj.source_sequence = record.sequence_number
  return obj
end

local function put_all(entries)
  local pending = entries
  for attempt = 1, config.max_attempts do
    local results, failed_or_err = kcl.put_records(config.target_stream, pending)
    if results then
      local failed = failed_or_err
      if failed == 0 then return true end
      local again = {}
      for i, res in ipairs(results) do
        if res.error_code then again[#again + 1] = pending[i] end
      end
      pending = again
      kcl.log.warn("forward: some records were not put", {failed = failed, attempt = attempt})
    else
      kcl.log.warn("forward: put_records failed", {error = failed_or_err, attempt = attempt})
    end
    if attempt < config.max_attempts then kcl.sleep(config.backoff_ms * 2 ^ (attempt - 1)) end
  end
  return nil, #pending .. " records could not be put into " .. config.target_stream
end

function P:process_records(input)
  local shard_id = kcl.shard_id()
  local entries = {}
  for _, r in ipairs(input.records) do
    local ok, obj = pcall(cjson.decode, r.data)
    -- cjson gives arrays as tables too: an object is a table that is not a non-empty array
    if ok and type(obj) == "table" and obj[1] == nil then
      local out = self.transform(obj, r, shard_id)
      entries[#entries + 1] = {data = cjson.encode(out), partition_key = r.partition_key}
    else
      kcl.log.warn("forward: skipping a record that is not a JSON object", {seq = r.sequence_number})
    end
  end
  for first = 1, #entries, config.max_batch do
    local chunk = {}
    for i = first, math.min(first + config.max_batch - 1, #entries) do chunk[#chunk + 1] = entries[i] end
    assert(put_all(chunk))
  end
  local ok, err = input.checkpointer:checkpoint()
  if not ok then kcl.log.warn("forward: checkpoint failed", {error = err}) end
end

function P:shutdown(input)
  if input.reason == "TERMINATE" then input.checkpointer:checkpoint() end
end

return P
