;; Imports a blocking call (fd_read) but has no shadow-stack pointer that wasio can find, so
;; it cannot be suspended: refused at load with a one-line message (exit 1).
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $read (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))))
