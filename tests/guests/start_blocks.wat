;; A start function that blocks (sched_yield) and then writes, before _start runs. V8 11.3 traps a
;; suspending import called from a start function: in JSPI mode the rewrite moves the start
;; function to an export that the host calls once the module is instantiated.
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "start\n")
  (data (i32.const 32) "main\n")
  (global $started (mut i32) (i32.const 0))
  (func $say (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $start
    (drop (call $yield))
    (global.set $started (i32.const 1))
    (call $say (i32.const 16) (i32.const 6)))
  (start $start)
  (func (export "_start")
    (if (i32.eqz (global.get $started)) (then unreachable))
    (call $say (i32.const 32) (i32.const 5))))
