// node_instances.mjs -- the baseline of bench/run.sh section 7: node starting N guests of one
// module in one process, each an instance with its own node:wasi, run to its end one after
// another (node has no way to run them side by side on one thread). Prints "guests N seconds S" on stderr (the guests write to stdout).
process.removeAllListeners('warning');
const { WASI } = await import('node:wasi');
const fs = await import('node:fs');
const [path, count] = [process.argv[2], Number(process.argv[3] ?? 10000)];
const mod = new WebAssembly.Module(fs.readFileSync(path));
const t0 = process.hrtime.bigint();
for (let i = 0; i < count; ++i) {
  const wasi = new WASI({ version: 'preview1', args: [path], env: {}, returnOnExit: true });
  const instance = new WebAssembly.Instance(mod, { wasi_snapshot_preview1: wasi.wasiImport });
  wasi.start(instance);
}
console.error(`guests ${count} seconds ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3)}`);
