// node_wasi.mjs -- baseline WASI preview1 host on node:wasi (node 18 and later).
//
// Usage: node bench/node_wasi.mjs [--env K=V]... [--dir HOST[:GUEST]]... module.wasm [args...]
//
// The guest sees argv = [module.wasm, args...], inherits fds 0/1/2, gets an
// empty environment unless --env is given, and no preopens unless --dir is
// given. The process exits with the guest's exit status; if the guest traps,
// the error is printed to stderr and the exit status is 134 (like wasmtime).
//
// Note: we use the global `process`; importing 'node:process' would make
// fd 0 non-blocking and break guests that read stdin.

// node:wasi prints an ExperimentalWarning to stderr when loaded; drop it so
// stderr only carries the guest's output. (Static imports are hoisted, hence
// the dynamic imports below.)
process.removeAllListeners('warning');
const { WASI } = await import('node:wasi');
const fs = await import('node:fs');

function usage() {
  process.stderr.write(
    'usage: node node_wasi.mjs [--env K=V]... [--dir HOST[:GUEST]]... module.wasm [args...]\n');
  process.exit(2);
}

const argv = process.argv.slice(2);
const env = {};
const preopens = {};
while (argv.length > 0 && argv[0].startsWith('--')) {
  const opt = argv.shift();
  if (opt === '--') break;
  const val = argv.shift();
  if (val === undefined) usage();
  if (opt === '--env') {
    const eq = val.indexOf('=');
    if (eq <= 0) usage();
    env[val.slice(0, eq)] = val.slice(eq + 1);
  } else if (opt === '--dir') {
    const colon = val.indexOf(':');
    const host = colon < 0 ? val : val.slice(0, colon);
    const guest = colon < 0 ? val : val.slice(colon + 1);
    preopens[guest] = host;
  } else {
    usage();
  }
}
if (argv.length === 0) usage();

const wasi = new WASI({
  version: 'preview1',
  args: argv,
  env,
  preopens,
  stdin: 0,
  stdout: 1,
  stderr: 2,
  returnOnExit: true,
});

const module = await WebAssembly.compile(fs.readFileSync(argv[0]));
// node 18 has only wasiImport (getImportObject came with 19.8 and 20).
const imports = wasi.getImportObject ? wasi.getImportObject() : {wasi_snapshot_preview1: wasi.wasiImport};
const instance = await WebAssembly.instantiate(module, imports);
try {
  process.exitCode = wasi.start(instance);
} catch (err) {
  process.stderr.write(`trap: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 134;
}
