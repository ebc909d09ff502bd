;; bump_allocator.wat with global 0 starting at 2 KiB. An AssemblyScript-style module: global 0 is a mutable i32 above the data, but it is a bump
;; allocator's next free byte, not a shadow-stack pointer (it only grows). The guest fills what it
;; allocated below it with a pattern, blocks in every way a guest can (poll_oneoff's sleep,
;; sched_yield, fd_read on stdin) and checks the pattern after each: a host that put its own
;; buffer below global 0 would overwrite it. Prints "intact" and exits 0, or exits 1 at the first
;; changed byte. Global 0 starts at $start (here 16 KiB; bump_allocator_low.wat: 2 KiB).
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 2)
  (global $next (mut i32) (i32.const 2048))
  (data (i32.const 1024) "intact\n")
  ;; scratch, below the allocator's area: 256 subscription, 512 event, 640 iovec, 700 nread/nevents, 768 read buffer
  (func $alloc (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $n)))
    (local.get $p))
  (func $fill (param $p i32) (param $n i32)
    (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.xor (local.get $i) (i32.const 0x5a)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))
  (func $check (param $p i32) (param $n i32)
    (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i)))
                  (i32.and (i32.xor (local.get $i) (i32.const 0x5a)) (i32.const 0xff)))
        (then (call $exit (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))
  (func (export "_start")
    (local $obj i32)
    (local.set $obj (call $alloc (i32.const 1024)))
    (call $fill (local.get $obj) (i32.const 1024))
    ;; a 1 ms relative clock subscription
    (i64.store (i32.const 256) (i64.const 7))
    (i32.store8 (i32.const 264) (i32.const 0))
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.const 1000000))
    (drop (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 700)))
    (call $check (local.get $obj) (i32.const 1024))
    (drop (call $yield))
    (call $check (local.get $obj) (i32.const 1024))
    (i32.store (i32.const 640) (i32.const 768))
    (i32.store (i32.const 644) (i32.const 16))
    (drop (call $read (i32.const 0) (i32.const 640) (i32.const 1) (i32.const 700)))
    (call $check (local.get $obj) (i32.const 1024))
    (i32.store (i32.const 640) (i32.const 1024))
    (i32.store (i32.const 644) (i32.const 7))
    (drop (call $write (i32.const 1) (i32.const 640) (i32.const 1) (i32.const 700)))))
