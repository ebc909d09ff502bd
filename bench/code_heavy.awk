# Writes a code-heavy WASI module in the text format, for bench/run.sh section 12: n functions of
# ~250 bytes each (n = 150,000 gives 37 MB), all in one table and each calling another through
# it, so that asyncify must instrument them all, as in real C++ programs with virtual calls.
# _start calls every one and writes "code done" to stdout. Usage: awk -v n=N -f code_heavy.awk
BEGIN {
  if (n == "") n = 1000
  print "(module"
  print "  (type $t (func (param i32 i32) (result i32)))"
  print "  (import \"wasi_snapshot_preview1\" \"fd_write\" (func $fd_write (param i32 i32 i32 i32) (result i32)))"
  print "  (memory (export \"memory\") 2)"
  print "  (global $sp (mut i32) (i32.const 65536))"
  print "  (export \"__stack_pointer\" (global $sp))"
  print "  (data (i32.const 16) \"code done\\n\")"
  print "  (data (i32.const 0) \"\\10\\00\\00\\00\\0a\\00\\00\\00\")"
  printf "  (table %d funcref)\n", n
  ops[0] = "i32.mul"; ops[1] = "i32.add"; ops[2] = "i32.xor"; ops[3] = "i32.rotl"; ops[4] = "i32.sub"; ops[5] = "i32.shr_u"
  for (f = 0; f < n; f++) {
    printf "  (func $f%d (type $t)\n", f
    for (s = 0; s < 20; s++) {
      k = (f * 2654435761 + s * 40503) % 2147483647
      printf "    local.get 0 i32.const %d %s local.set 0\n", k, ops[(f + s) % 6]
    }
    printf "    local.get 1 if (result i32) local.get 0 local.get 1 i32.const 1 i32.sub local.get 0 i32.const %d i32.rem_u call_indirect (type $t) else local.get 0 end)\n", n
  }
  printf "  (elem (i32.const 0)"
  for (f = 0; f < n; f++) printf " $f%d", f
  print ")"
  print "  (func (export \"_start\") (local $i i32) (local $x i32)"
  printf "    (loop $l (local.set $x (call_indirect (type $t) (local.get $x) (i32.const 2) (local.get $i)))\n"
  printf "      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const %d))))\n", n
  print "    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))))"
}
