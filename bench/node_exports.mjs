// node_exports.mjs -- the baseline of bench/host_calls: node calling a reactor's export from JS
// (host_bench.wasm, its host functions as JS functions), ns per call. Prints
// "export_call_ns N sync_host_ns N".
process.removeAllListeners('warning');
const { WASI } = await import('node:wasi');
const fs = await import('node:fs');
const [path, count] = [process.argv[2], Number(process.argv[3] ?? 1000000)];
const wasi = new WASI({ version: 'preview1', args: [path], env: {} });
const host = { nop: (i) => i & 1, yield: () => 1 };
const { instance } = await WebAssembly.instantiate(fs.readFileSync(path),
  { wasi_snapshot_preview1: wasi.wasiImport, host });
wasi.initialize(instance);
const { noop, sync_loop } = instance.exports;
const best = (f) => {
  let b = Infinity;
  for (let k = 0; k < 3; ++k) {
    const t0 = process.hrtime.bigint();
    f();
    b = Math.min(b, Number(process.hrtime.bigint() - t0) / count);
  }
  return b;
};
const call = best(() => { for (let i = 0; i < count; ++i) noop(i); });
const sync = best(() => sync_loop(count));
console.log(`export_call_ns ${call.toFixed(1)} sync_host_ns ${sync.toFixed(1)}`);
