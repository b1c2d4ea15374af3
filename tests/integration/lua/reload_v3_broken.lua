-- reload_v3_broken.lua — for it_lua_reload.sh: a syntax error on line 6,
-- written over the running v2, which must keep running.
local P = {}
local TAG = "v3"
function P:process_records(input)
  for _, r in ipairs(input.records) do if then end end
end
return P
