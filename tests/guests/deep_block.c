// deep_block.h with wasm-ld's default 64 KiB stack.
#include "deep_block.h"
