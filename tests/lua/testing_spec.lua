-- Specs for luakcl.testing, the pure-Lua harness users test their scripts with.
local testing = require "luakcl.testing"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))

local function script(name, src)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(src)
  f:close()
  return path
end

teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

describe("luakcl.testing", function()
  describe("loading", function()
    it("reports syntax errors with file and line", function()
      local p = script("syntax.lua", "local P = {}\nfunction P:process_records(\nreturn P\n")
      local ok, err = pcall(testing.load, p)
      assert.is_false(ok)
      assert.matches("syntax.lua:3:", err)
    end)

    it("reports top-level errors with file and line", function()
      local p = script("top.lua", "local x\nx.y = 1\nreturn {}\n")
      local ok, err = pcall(testing.load, p)
      assert.is_false(ok)
      assert.matches("top.lua:2:", err)
    end)

    it("refuses a script that returns no table or has no process_records", function()
      local ok, err = pcall(testing.load, script("nil.lua", "return nil\n"))
      assert.is_false(ok)
      assert.matches("must return a table", err)
      ok, err = pcall(testing.load, script("noproc.lua", "return {initialize = function() end}\n"))
      assert.is_false(ok)
      assert.matches("process_records must be a function", err)
    end)

    it("refuses waiting calls at top level", function()
      local p = script("topsleep.lua", "require('luakcl').sleep(1)\nreturn {process_records = function() end}\n")
      local ok, err = pcall(testing.load, p)
      assert.is_false(ok)
      assert.matches("only be called inside a callback", err)
    end)

    it("finds modules next to the script", function()
      script("mod_here.lua", "return {answer = 42}\n")
      local p = script("usesmod.lua",
        "local m = require 'mod_here'\nreturn {process_records = function(self) self.answer = m.answer end}\n")
      local h = testing.load(p)
      assert.is_true(h:process({"x"}))
      assert.are.equal(42, h.instance.answer)
      package.loaded.mod_here = nil
    end)
  end)

  describe("callbacks", function()
    local src = [[
      local kcl = require "luakcl"
      local P = {}
      function P:initialize(input)
        self.init = input
        self.shard_at_init = kcl.shard_id()
      end
      function P:process_records(input)
        self.batches = (self.batches or 0) + 1
        self.last = input
        local mode = input.records[1] and input.records[1].partition_key
        if mode == "raise" then error("boom") end
        if mode == "yield" then coroutine.yield() end
        if mode == "pcall-sleep" then
          self.pcall = {pcall(function() kcl.sleep(250); return "slept" end)}
        end
        if mode == "checkpoint" then self.cp = {input.checkpointer:checkpoint()} end
        if mode == "checkpoint-at" then self.cp = {input.checkpointer:checkpoint("123", 2)} end
        if mode == "prepare" then self.cp = {input.checkpointer:prepare_checkpoint("9", nil, "st")} end
        if mode == "misuse" then input.checkpointer:checkpoint(5) end
        if mode == "keep" then kept = input.checkpointer end
        if mode == "stale" then kept:checkpoint() end
        if mode == "nested" then
          local co = coroutine.create(function() kcl.sleep(1) end)
          local ok, err = coroutine.resume(co)
          error(err, 0)
        end
        if mode == "put" then
          self.put = {kcl.put_records("out", {{data = "d", partition_key = "k"}})}
        end
        if mode == "log" then kcl.log.warn("hello", {n = 1}) end
      end
      function P:shutdown(input)
        self.reason = input.reason
        self.cp = {input.checkpointer:checkpoint()}
      end
      function P:on_reload() self.reloaded = true end
      return P
    ]]
    local h
    before_each(function() h = testing.load(script("cb.lua", src), {shard_id = "shardId-9", worker_id = "w1"}) end)

    it("initializes once, with the shard id, before the first batch", function()
      assert.is_true(h:process({"a"}))
      assert.are.equal("shardId-9", h.instance.init.shard_id)
      assert.are.equal("TRIM_HORIZON", h.instance.init.sequence_number)
      assert.are.equal("shardId-9", h.instance.shard_at_init)
      assert.is_true(h:process({"b"}))
      assert.are.equal(2, h.instance.batches)
    end)

    it("fills in records from strings and tables, with increasing sequence numbers", function()
      assert.is_true(h:process({"a", {data = "b", partition_key = "k2", explicit_hash_key = "7"}}))
      local r = h.instance.last.records
      assert.are.equal(2, #r)
      assert.are.equal("a", r[1].data)
      assert.are.equal("pk", r[1].partition_key)
      assert.are.equal("k2", r[2].partition_key)
      assert.are.equal("7", r[2].explicit_hash_key)
      assert.is_string(r[1].sequence_number)
      assert.is_true(r[1].sequence_number < r[2].sequence_number)
      assert.are.equal(#r[1].sequence_number, #r[2].sequence_number)
      assert.are.equal(h:now(), r[1].approximate_arrival_timestamp)
      assert.is_true(h:process({{data = "c", sequence_number = "5"}}))
      assert.are.equal("5", h.instance.last.records[1].sequence_number)
    end)

    it("returns nil and a traceback when a callback raises", function()
      local ok, err = h:process({{data = "x", partition_key = "raise"}})
      assert.is_nil(ok)
      assert.matches("cb.lua:11: boom", err)
      assert.matches("stack traceback", err)
    end)

    it("treats a bare coroutine.yield() as an error", function()
      local ok, err = h:process({{data = "x", partition_key = "yield"}})
      assert.is_nil(ok)
      assert.matches("coroutine.yield", err)
    end)

    it("lets scripts yield inside pcall; sleep advances the fake clock", function()
      local t0 = h:now()
      assert.is_true(h:process({{data = "x", partition_key = "pcall-sleep"}}))
      assert.are.same({true, "slept"}, h.instance.pcall)
      assert.are.equal(t0 + 250, h:now())
      assert.are.equal(250, h.slept)
    end)

    it("records checkpoints, at the last record by default", function()
      assert.is_true(h:process({{data = "x", partition_key = "checkpoint"}}))
      assert.are.same({true}, h.instance.cp)
      assert.are.equal(h.instance.last.records[1].sequence_number, h:last_checkpoint().sequence_number)
      assert.is_true(h:process({{data = "x", partition_key = "checkpoint-at"}}))
      assert.are.equal("123", h:last_checkpoint().sequence_number)
      assert.are.equal(2, h:last_checkpoint().sub_sequence_number)
      assert.is_true(h:process({{data = "x", partition_key = "prepare"}}))
      assert.is_true(h:last_checkpoint().prepared)
      assert.are.equal("st", h:last_checkpoint().state)
    end)

    it("simulates checkpoint failures as nil, message, kind", function()
      h:fail_checkpoints("throttled", 1, "rate exceeded")
      assert.is_true(h:process({{data = "x", partition_key = "checkpoint"}}))
      assert.are.same({nil, "checkpoint failed (throttled): rate exceeded", "throttled"}, h.instance.cp)
      assert.are.equal(0, #h.checkpoints)
      assert.are.equal(1, #h.failed_checkpoints)
      assert.is_true(h:process({{data = "x", partition_key = "checkpoint"}}))
      assert.are.same({true}, h.instance.cp)
    end)

    it("raises on checkpointer misuse", function()
      local ok, err = h:process({{data = "x", partition_key = "misuse"}})
      assert.is_nil(ok)
      assert.matches("sequence_number must be a string", err)
      assert.is_true(h:process({{data = "x", partition_key = "keep"}}))
      ok, err = h:process({{data = "x", partition_key = "stale"}})
      assert.is_nil(ok)
      assert.matches("already returned", err)
      ok, err = h:process({{data = "x", partition_key = "nested"}})
      assert.is_nil(ok)
      assert.matches("own coroutine", err)
    end)

    it("simulates shutdown reasons; ZOMBIE checkpoints fail like a lost lease", function()
      assert.is_true(h:shutdown("ZOMBIE"))
      assert.are.equal("ZOMBIE", h.instance.reason)
      assert.are.equal("condition_failed", h.instance.cp[3])
      assert.is_true(h:shutdown("TERMINATE"))
      assert.are.same({true}, h.instance.cp)
    end)

    it("records puts and answers them", function()
      assert.is_true(h:process({{data = "x", partition_key = "put"}}))
      assert.are.equal("out", h.puts[1].stream)
      assert.are.equal("d", h.puts[1].records[1].data)
      assert.are.equal(0, h.instance.put[2])
      assert.is_string(h.instance.put[1][1].sequence_number)
      h.opts.put_records = function() return nil, "put_records failed (throttled): x" end
      assert.is_true(h:process({{data = "x", partition_key = "put"}}))
      assert.are.same({nil, "put_records failed (throttled): x"}, h.instance.put)
    end)

    it("records logs with the shard id and fields", function()
      assert.is_true(h:process({{data = "x", partition_key = "log"}}))
      local e = h:logged("warn", "hello")[1]
      assert.are.equal("shardId-9", e.shard_id)
      assert.are.same({n = 1}, e.fields)
    end)

    it("reloads: new methods, same self, on_reload called; a broken file is refused", function()
      assert.is_true(h:process({"a"}))
      local p2 = script("cb2.lua", [[
        local P = {}
        function P:process_records(input) self.v2 = (self.v2 or 0) + #input.records end
        function P:on_reload() self.reloaded = "v2" end
        return P
      ]])
      assert.is_true(h:reload(p2))
      assert.are.equal("v2", h.instance.reloaded)
      assert.is_true(h:process({"b", "c"}))
      assert.are.equal(2, h.instance.v2)
      assert.are.equal(1, h.instance.batches)       -- state from v1 kept
      local ok, err = h:reload(script("bad.lua", "return {"))
      assert.is_nil(ok)
      assert.matches("bad.lua:1:", err)
      assert.is_true(h:process({"d"}))
      assert.are.equal(3, h.instance.v2)
    end)
  end)
end)
