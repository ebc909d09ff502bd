;; Imports a blocking call (fd_read) but has no shadow-stack pointer that wasio can find, so
;; asyncify cannot suspend it: it runs in fiber mode (--mode auto), or is refused at load with a
;; one-line message (--mode asyncify, exit 1).
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $read (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))))
