;; proc_exit called from the start function, and the function then simply returns: the exit
;; code still wins (exit 5), and the pending termination must not reach the next guest.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $start (call $exit (i32.const 5)))
  (start $start)
  (func (export "_start") unreachable))
