;; Host functions of every number type, called from an export (the embedding tests): the i64
;; parameters and results and the floats must cross the host boundary intact in both modes.
(module
  (import "host" "wide" (func $wide (param i64 i32) (result i64)))
  (import "host" "fmix" (func $fmix (param f32 f64) (result f64)))
  (import "host" "sleep_ms" (func $sleep (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $__stack_pointer (mut i32) (i32.const 4096))
  (func (export "call_wide") (param i64) (result i64)
    (drop (call $sleep (i32.const 0)))
    (call $wide (local.get 0) (i32.const 7)))
  ;; $wide called $n times: at a time slice's end the guest yields inside a call whose result
  ;; is an i64, and the result the host gives V8 while unwinding must still be a BigInt.
  (func (export "wide_loop") (param $n i32) (result i64)
    (local $sum i64)
    (loop $again
      (local.set $sum (i64.add (local.get $sum) (call $wide (i64.const 1) (i32.const 1))))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))
  (func (export "call_fmix") (param f32 f64) (result f64)
    (call $fmix (local.get 0) (local.get 1))))
