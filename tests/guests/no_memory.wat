;; A module without a memory calling WASI with pointers: every pointer is out of bounds, so
;; the calls fail with fault (21); exits with the errno of clock_time_get.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func (export "_start")
    (call $exit (call $clock (i32.const 1) (i64.const 0) (i32.const 0)))))
