;; A start function that traps: a trap (exit 134), not a host crash.
(module
  (memory (export "memory") 1)
  (func $start unreachable)
  (start $start)
  (func (export "_start")))
