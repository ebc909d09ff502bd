;; Declares WASI imports with the wrong types (f64, i64 where the spec has i32, too few and
;; too many parameters). The host refuses it before it runs, with one line, as wasmtime's linker
;; does: a call through the wrong type would decode garbage.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param f64 f64 f64) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i64) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $clock (f64.const 1e300) (f64.const -1) (f64.const 0)))
    (drop (call $sizes (i64.const -1)))
    (drop (call $random (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 2) (i32.const 3)))
    (call $exit (i32.const 7))))
