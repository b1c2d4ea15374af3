-- forward_to_env.lua — for it_lua_forward.sh: scripts/examples/forward.lua,
-- unchanged, with its module-level config pointed at the stream named by
-- $LUAIT_TARGET (forward.lua has no setting of its own for that: its target is
-- the `config.target_stream` field of the table it returns).
local P = dofile(assert(os.getenv("LUAKCL_SOURCE_DIR")) .. "/scripts/examples/forward.lua")
P.config.target_stream = assert(os.getenv("LUAIT_TARGET"), "LUAIT_TARGET not set")
return P
