;; A module that claims to be asyncified by its producer (it exports asyncify_start_unwind & co.
;; and a __stack_pointer) but whose "unwind" does nothing: told to unwind in a blocking call, it
;; goes on and makes its next blocking call while the first is still in flight. wasio must end
;; it (a trap naming the cause) rather than run two operations for one guest: the host's own
;; state would not survive that. Hostile or broken, the same. 10 ms sleeps in poll_oneoff, 1,000
;; times, then "unreachable" (it is never reached).
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $__stack_pointer (export "__stack_pointer") (mut i32) (i32.const 65536))
  (func $frame
    (local $sp i32)
    ;; wasm-ld's prologue shape: global 0 is a shadow-stack pointer
    (global.set $__stack_pointer (local.tee $sp (i32.sub (global.get $__stack_pointer) (i32.const 16))))
    (global.set $__stack_pointer (i32.add (local.get $sp) (i32.const 16))))
  (func (export "asyncify_start_unwind") (param i32))
  (func (export "asyncify_stop_unwind"))
  (func (export "asyncify_start_rewind") (param i32))
  (func (export "asyncify_stop_rewind"))
  (func (export "_start")
    (local $i i32)
    (call $frame)
    ;; a 10 ms relative clock subscription at 256; events at 512; nevents at 700
    (i64.store (i32.const 256) (i64.const 7))
    (i32.store8 (i32.const 264) (i32.const 0))
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.const 10000000))
    (loop $again
      (drop (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 700)))
      (br_if $again (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 1000))))
    unreachable))
