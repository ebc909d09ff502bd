;; A wasi_unstable (snapshot 0) guest: fd_write, a 56-byte poll_oneoff clock subscription
;; (its `identifier` field moves the clock fields by 8) that must suspend ~10 ms, and fd_seek
;; whose whence is numbered cur 0, end 1, set 2. Exits 0 when all hold, else a code naming
;; the failed step. Global 0 is a shadow-stack pointer, so wasio can suspend it.
(module
  (import "wasi_unstable" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "proc_exit" (func $exit (param i32)))
  (global $sp (mut i32) (i32.const 65536))
  (memory (export "memory") 2)
  (data (i32.const 1024) "hello unstable\n")
  (func $fail (param i32) (call $exit (local.get 0)) unreachable)
  (func (export "_start")
    (local $t0 i64)
    ;; iovec {1024, 15} at 0; nwritten at 8
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 15))
    (if (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)) (then (call $fail (i32.const 10))))
    (if (i32.ne (i32.load (i32.const 8)) (i32.const 15)) (then (call $fail (i32.const 11))))
    ;; t0
    (drop (call $now (i32.const 1) (i64.const 0) (i32.const 16)))
    (local.set $t0 (i64.load (i32.const 16)))
    ;; subscription at 256: userdata 42, tag 0 (clock), identifier @16, id @24 = 1 (monotonic),
    ;; timeout @32 = 10 ms, precision @40, flags @48 = 0 (relative)
    (i64.store (i32.const 256) (i64.const 42))
    (i32.store8 (i32.const 264) (i32.const 0))
    (i64.store (i32.const 272) (i64.const 7))
    (i32.store (i32.const 280) (i32.const 1))
    (i64.store (i32.const 288) (i64.const 10000000))
    (i64.store (i32.const 296) (i64.const 0))
    (i32.store16 (i32.const 304) (i32.const 0))
    (if (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 24)) (then (call $fail (i32.const 20))))
    (if (i32.ne (i32.load (i32.const 24)) (i32.const 1)) (then (call $fail (i32.const 21))))
    (if (i64.ne (i64.load (i32.const 512)) (i64.const 42)) (then (call $fail (i32.const 22))))
    (drop (call $now (i32.const 1) (i64.const 0) (i32.const 16)))
    (if (i64.lt_u (i64.sub (i64.load (i32.const 16)) (local.get $t0)) (i64.const 10000000))
      (then (call $fail (i32.const 23))))
    ;; fd_seek(1, 0, whence 0 = CUR in snapshot 0): stdout is a pipe in the test, so spipe (70);
    ;; whence 3 is invalid (28).
    (if (i32.ne (call $seek (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 32)) (i32.const 70))
      (then (call $fail (i32.const 30))))
    (if (i32.ne (call $seek (i32.const 1) (i64.const 0) (i32.const 3) (i32.const 32)) (i32.const 28))
      (then (call $fail (i32.const 31))))))
