;; Imports from a module wasio does not provide: a one-line load error (exit 1).
(module
  (import "env" "something" (func))
  (memory (export "memory") 1)
  (func (export "_start")))
