--- luakcl.testing — drive a luakcl record processor script without AWS or C.
--
--   local testing = require "luakcl.testing"
--   local h = testing.load("scripts/examples/dump.lua", {shard_id = "shardId-000000000000"})
--   assert(h:process({"hello", {data = "x", partition_key = "k"}}))
--   assert(h:shutdown("TERMINATE"))
--   -- h.checkpoints, h.logs, h.puts, h.instance, h:now()
--
-- It loads the script the way the luakcl host does (it must return a table
-- with a process_records function; initialize, shutdown and on_reload are
-- optional), makes the per-shard instance `setmetatable({}, {__index = P})`,
-- and runs every callback in a coroutine. While the script runs,
-- `require "luakcl"` gives a fake module: waiting calls (sleep, put_records,
-- checkpoints) really yield to the harness, which answers at once: sleep
-- advances a fake clock, checkpoints succeed unless told to fail, put_records
-- succeeds unless told otherwise. Waiting calls outside a callback coroutine
-- raise, as they do under the host.
--
-- Callbacks return true, or nil and the error with its traceback (the host
-- would report done(-1)).
local M = {}

local START_MS = 1700000000000

local function pack(...) return {n = select("#", ...), ...} end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

-- A token the fake API yields with; anything else yielded is a script error.
local WAIT = {}

local Harness = {}
Harness.__index = Harness

-- ---------------------------------------------------------------------------
-- the fake `luakcl` module

local function make_kcl(h)
  local kcl = {version = "testing"}

  local function wait(what, fn, ...)
    local co = coroutine.running()
    if h.running == nil then
      error(what .. " can only be called inside a callback (initialize, process_records, "
            .. "shutdown, on_reload), not at the top level of a script", 3)
    end
    if co ~= h.running then
      error(what .. " must be called from the callback's own coroutine, not from a "
            .. "coroutine the script created", 3)
    end
    return coroutine.yield(WAIT, fn, ...)
  end

  local function logger(level)
    return function(msg, fields)
      if fields ~= nil and type(fields) ~= "table" then
        error("bad argument #2 to '" .. level .. "' (fields must be a table)", 2)
      end
      local entry = {level = level, msg = tostring(msg), shard_id = h.running and h.shard_id or nil,
                     fields = fields and copy(fields) or {}}
      h.logs[#h.logs + 1] = entry
      if h.opts.verbose then
        io.stderr:write(("[%s] %s %s\n"):format(level, entry.shard_id or "-", entry.msg))
      end
    end
  end
  kcl.log = {debug = logger("debug"), info = logger("info"), warn = logger("warn"), error = logger("error")}

  function kcl.now() return h.clock end
  function kcl.shard_id() return h.running and h.shard_id or nil end
  function kcl.worker_id() return h.opts.worker_id end

  function kcl.sleep(ms)
    if type(ms) ~= "number" or ms ~= ms or ms < 0 or ms == math.huge then
      error("bad argument #1 to 'sleep' (milliseconds must be a finite number >= 0)", 2)
    end
    return wait("kcl.sleep", function()
      h.clock = h.clock + ms
      h.slept = h.slept + ms
    end)
  end

  function kcl.put_records(stream, records)
    if type(stream) ~= "string" then error("bad argument #1 to 'put_records' (string expected)", 2) end
    if type(records) ~= "table" then error("bad argument #2 to 'put_records' (table expected)", 2) end
    local copied = {}
    for i, r in ipairs(records) do
      if type(r) ~= "table" then
        error(("kcl.put_records: records[%d] must be a table (got %s)"):format(i, type(r)), 2)
      end
      for _, key in ipairs({"data", "partition_key", "explicit_hash_key"}) do
        local v = r[key]
        if (v == nil and key ~= "explicit_hash_key") or (v ~= nil and type(v) ~= "string") then
          error(("kcl.put_records: records[%d].%s must be a string (got %s)"):format(i, key, type(v)), 2)
        end
      end
      copied[i] = {data = r.data, partition_key = r.partition_key, explicit_hash_key = r.explicit_hash_key}
    end
    return wait("kcl.put_records", function()
      h.puts[#h.puts + 1] = {stream = stream, records = copied}
      if #copied == 0 then return {}, 0 end
      if h.opts.put_records then return h.opts.put_records(stream, copied) end
      local results = {}
      for i = 1, #copied do
        h.put_seq = h.put_seq + 1
        results[i] = {sequence_number = ("%056d"):format(h.put_seq), shard_id = "shardId-000000000000"}
      end
      return results, 0
    end)
  end

  return kcl
end

-- ---------------------------------------------------------------------------
-- the checkpointer

local Checkpointer = {}
Checkpointer.__index = Checkpointer
Checkpointer.__metatable = "luakcl.checkpointer"
Checkpointer.__tostring = function(cp) return cp.closed and "checkpointer(closed)" or "checkpointer(testing)" end

local function do_checkpoint(cp, prepare, seq, sub, state)
  local fn = prepare and "checkpointer:prepare_checkpoint" or "checkpointer:checkpoint"
  if getmetatable(cp) ~= "luakcl.checkpointer" or type(cp) ~= "table" or not rawget(cp, "harness") then
    error(fn .. ": call it with ':' on the checkpointer passed to the callback", 3)
  end
  if cp.closed then
    error(fn .. ": this checkpointer belongs to a callback that has already returned; "
          .. "use input.checkpointer of the current callback", 3)
  end
  if seq ~= nil and type(seq) ~= "string" then
    error(("%s: sequence_number must be a string (got %s)"):format(fn, type(seq)), 3)
  end
  if sub ~= nil and (type(sub) ~= "number" or sub < 0 or sub ~= math.floor(sub)) then
    error(("%s: sub_sequence_number must be an integer >= 0 (got %s)"):format(fn, type(sub)), 3)
  end
  if prepare and state ~= nil and type(state) ~= "string" then
    error(("%s: state must be a string (got %s)"):format(fn, type(state)), 3)
  end
  local h = cp.harness
  local co = coroutine.running()
  if co ~= h.running then
    error(fn .. " must be called from the callback's own coroutine, not from a coroutine the script created", 3)
  end
  return coroutine.yield(WAIT, function()
    local default = h.terminating and "SHARD_END" or h.last_sequence
    local entry = {sequence_number = seq or default, sub_sequence_number = sub,
                   prepared = prepare or nil, state = state, at = h.clock}
    local kind, message
    if h.lease_lost then
      kind, message = "condition_failed", "the lease was lost"
    elseif h.checkpoint_failures > 0 then
      h.checkpoint_failures = h.checkpoint_failures - 1
      kind, message = h.checkpoint_failure_kind, h.checkpoint_failure_message
    end
    if kind then
      entry.failed = kind
      h.failed_checkpoints[#h.failed_checkpoints + 1] = entry
      return nil, ("checkpoint failed (%s): %s"):format(kind, message), kind
    end
    h.checkpoints[#h.checkpoints + 1] = entry
    return true
  end)
end

function Checkpointer.checkpoint(cp, seq, sub) return do_checkpoint(cp, false, seq, sub) end
function Checkpointer.prepare_checkpoint(cp, seq, sub, state) return do_checkpoint(cp, true, seq, sub, state) end

-- ---------------------------------------------------------------------------
-- loading

local function load_script(h, path)
  local chunk, err = loadfile(path)
  if not chunk then return nil, err end
  local ok, P = xpcall(function()
    local saved_kcl, saved_path = package.loaded.luakcl, package.path
    package.loaded.luakcl = h.kcl
    package.path = h.dir .. "/?.lua;" .. h.dir .. "/?/init.lua;" .. package.path
    local ok2, res = pcall(chunk)
    package.loaded.luakcl, package.path = saved_kcl, saved_path
    if not ok2 then error(res, 0) end
    return res
  end, function(e) return tostring(e) end)
  if not ok then return nil, P end
  if type(P) ~= "table" then
    return nil, ("%s: the script must return a table of methods (it returned %s)"):format(path, type(P))
  end
  for i, name in ipairs({"process_records", "initialize", "shutdown", "on_reload"}) do
    local v = P[name]
    if not (type(v) == "function" or (i > 1 and v == nil)) then
      return nil, ("%s: %s must be a function (the script's table has %s)"):format(path, name, type(v))
    end
  end
  return P
end

--- Load a processor script. opts: shard_id (default "shardId-000000000000"),
-- worker_id, start_sequence (initialize's sequence_number, default
-- "TRIM_HORIZON"), put_records = function(stream, records) -> results, failed
-- | nil, err (replaces the default all-success answer), verbose (print logs).
-- Raises with "file:line: message" when the script does not load.
function M.load(path, opts)
  opts = opts or {}
  local h = setmetatable({
    path = path, dir = dirname(path), opts = opts,
    shard_id = opts.shard_id or "shardId-000000000000",
    clock = opts.start_ms or START_MS, slept = 0, seq = 0, put_seq = 0,
    checkpoints = {}, failed_checkpoints = {}, logs = {}, puts = {},
    checkpoint_failures = 0, initialized = false, shut_down = false,
  }, Harness)
  h.kcl = make_kcl(h)
  local P, err = load_script(h, path)
  if not P then error(err, 2) end
  h.script = P
  h.instance = setmetatable({}, {__index = P})
  return h
end

-- ---------------------------------------------------------------------------
-- driving callbacks

-- Run method(instance, input) in a fresh coroutine, answering its waits.
function Harness:_call(method, input)
  local fn = self.instance[method]
  if fn == nil then return true end
  local tb
  local co = coroutine.create(function()
    return xpcall(fn, function(e) tb = debug.traceback(tostring(e), 2); return tb end, self.instance, input)
  end)
  local saved_kcl, saved_path = package.loaded.luakcl, package.path
  package.loaded.luakcl = self.kcl
  package.path = self.dir .. "/?.lua;" .. self.dir .. "/?/init.lua;" .. package.path
  self.running = co
  local result, err = true, nil
  local args = {n = 0}
  while true do
    local res = pack(coroutine.resume(co, unpack(args, 1, args.n)))
    if not res[1] then result, err = nil, tostring(res[2]); break end
    if coroutine.status(co) == "dead" then
      if not res[2] then result, err = nil, res[3] end
      break
    end
    if res[2] ~= WAIT then
      result, err = nil, method .. ": coroutine.yield() from a callback's own coroutine "
                         .. "(only luakcl calls may yield it)"
      break
    end
    local answers = pack(pcall(res[3], unpack(res, 4, res.n)))
    if not answers[1] then result, err = nil, tostring(answers[2]); break end
    args = pack(unpack(answers, 2, answers.n))
  end
  self.running = nil
  package.loaded.luakcl, package.path = saved_kcl, saved_path
  if input and input.checkpointer then input.checkpointer.closed = true end
  if not result then self.errors = (self.errors or 0) + 1 end
  return result, err
end

function Harness:_checkpointer()
  return setmetatable({harness = self}, Checkpointer)
end

--- initialize(self, {shard_id, sequence_number, sub_sequence_number}).
function Harness:initialize(input)
  input = input or {}
  self.initialized = true
  return self:_call("initialize", {
    shard_id = self.shard_id,
    sequence_number = input.sequence_number or self.opts.start_sequence or "TRIM_HORIZON",
    sub_sequence_number = input.sub_sequence_number,
  })
end

--- Deliver one batch. records: strings (the data) or tables (missing fields
-- are filled in: partition_key "pk", increasing sequence_number, arrival
-- time = the fake clock). opts: millis_behind_latest. Calls initialize first
-- if it was not called.
function Harness:process(records, opts)
  if not self.initialized then
    local ok, err = self:initialize()
    if not ok then return nil, err end
  end
  local batch = {}
  for i, r in ipairs(records or {}) do
    if type(r) == "string" then r = {data = r} end
    local rec = copy(r)
    if rec.sequence_number == nil then
      self.seq = self.seq + 1
      rec.sequence_number = ("4959%052d"):format(self.seq)
    end
    rec.partition_key = rec.partition_key or "pk"
    rec.approximate_arrival_timestamp = rec.approximate_arrival_timestamp or self.clock
    batch[i] = rec
  end
  if #batch > 0 then self.last_sequence = batch[#batch].sequence_number end
  self.batches = (self.batches or 0) + 1
  return self:_call("process_records", {
    records = batch,
    millis_behind_latest = (opts and opts.millis_behind_latest) or 0,
    checkpointer = self:_checkpointer(),
  })
end

--- shutdown(self, {reason, checkpointer}); reason "TERMINATE" (default),
-- "ZOMBIE" (checkpoints then fail: the lease is lost) or "REQUESTED".
function Harness:shutdown(reason)
  reason = reason or "TERMINATE"
  assert(reason == "TERMINATE" or reason == "ZOMBIE" or reason == "REQUESTED", "bad shutdown reason " .. tostring(reason))
  self.shut_down = true
  self.lease_lost = reason == "ZOMBIE"
  -- as under the host: checkpoint() during TERMINATE finishes the shard
  self.terminating = reason == "TERMINATE"
  local ok, err = self:_call("shutdown", {reason = reason, checkpointer = self:_checkpointer()})
  self.terminating = false
  return ok, err
end

--- The next `count` (default 1; math.huge = all) checkpoints fail with `kind`
-- ("throttled", "condition_failed", "invalid_argument", ...).
function Harness:fail_checkpoints(kind, count, message)
  self.checkpoint_failure_kind = kind or "throttled"
  self.checkpoint_failure_message = message or "simulated failure"
  self.checkpoint_failures = count or 1
end

--- Advance the fake clock (kcl.now()) by ms.
function Harness:advance(ms) self.clock = self.clock + ms end
function Harness:now() return self.clock end

--- The last successful checkpoint's entry, or nil.
function Harness:last_checkpoint() return self.checkpoints[#self.checkpoints] end

--- Log entries at `level` (or all), optionally whose message contains `text`.
function Harness:logged(level, text)
  local out = {}
  for _, e in ipairs(self.logs) do
    if (level == nil or e.level == level) and (text == nil or e.msg:find(text, 1, true)) then
      out[#out + 1] = e
    end
  end
  return out
end

--- Simulate a hot reload: load `path` (default: the same file), swap the
-- instance's methods, run on_reload(self) if the new code defines it.
-- Returns true, or nil and why (the old code then keeps running).
function Harness:reload(path)
  local P, err = load_script(self, path or self.path)
  if not P then return nil, err end
  self.script = P
  getmetatable(self.instance).__index = P
  if P.on_reload then return self:_call("on_reload", nil) end
  return true
end

return M
