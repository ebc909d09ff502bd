// deep_block.h with the stack Rust gives its programs: first in memory, 1 MiB (for 10,000
// frames and more).
#include "deep_block.h"
