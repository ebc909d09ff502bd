;; Uses the features toolchains emit today, then prints "features ok" (or "features FAIL").
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (global $__stack_pointer (mut i32) (i32.const 65536))
  (memory (export "memory") 2)
  (table 2 funcref)
  (tag $boom (param i32))
  (data (i32.const 1024) "features ok\n")
  (data (i32.const 1040) "features FAIL\n")
  ;; multi-value: two results
  (func $pair (result i32 i32) (i32.const 40) (i32.const 2))
  ;; exceptions: throw and catch a tagged value
  (func $catch_it (result i32)
    (try (result i32)
      (do (throw $boom (i32.const 7)))
      (catch $boom)))
  (func $check (result i32)
    (local $ok i32)
    ;; SIMD: 1+2 in each lane, extract lane 3
    (local.set $ok (i32.eq (i32x4.extract_lane 3 (i32x4.add (i32x4.splat (i32.const 1)) (i32x4.splat (i32.const 2)))) (i32.const 3)))
    ;; bulk memory: fill and copy
    (memory.fill (i32.const 2000) (i32.const 65) (i32.const 4))
    (memory.copy (i32.const 2004) (i32.const 2000) (i32.const 4))
    (local.set $ok (i32.and (local.get $ok) (i32.eq (i32.load (i32.const 2004)) (i32.const 0x41414141))))
    ;; sign extension
    (local.set $ok (i32.and (local.get $ok) (i32.eq (i32.extend8_s (i32.const 0xff)) (i32.const -1))))
    ;; non-trapping float-to-int
    (local.set $ok (i32.and (local.get $ok) (i32.eq (i32.trunc_sat_f32_s (f32.const 1e30)) (i32.const 0x7fffffff))))
    ;; multi-value
    call $pair
    i32.add
    i32.const 42
    i32.eq
    local.get $ok
    i32.and
    local.set $ok
    ;; reference types
    (local.set $ok (i32.and (local.get $ok) (ref.is_null (table.get 0 (i32.const 1)))))
    (local.set $ok (i32.and (local.get $ok) (i32.eq (call $catch_it) (i32.const 7))))
    (local.get $ok))
  (func (export "_start")
    (local $ok i32)
    (local.set $ok (call $check))
    (i32.store (i32.const 0) (select (i32.const 1024) (i32.const 1040) (local.get $ok)))
    (i32.store (i32.const 4) (select (i32.const 12) (i32.const 14) (local.get $ok)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (i32.eqz (local.get $ok)))))
