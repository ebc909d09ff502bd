# Dependencies, all from Debian packages (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS context)  # fiber mode's native stacks  # libcrypto's SHA-256 keys the disk cache of rewritten modules

# Asio (standalone, header-only) with its epoll reactor. ASIO_HAS_IO_URING stays off: it would
# change Asio's inline code for every embedder's translation unit too. file_io.cpp drives its own
# ring through liburing instead.
add_library(wasio_asio INTERFACE)
add_library(wasio::asio ALIAS wasio_asio)
target_compile_definitions(wasio_asio INTERFACE ASIO_NO_DEPRECATED)
target_link_libraries(wasio_asio INTERFACE Threads::Threads)

find_path(WASIO_URING_INCLUDE liburing.h REQUIRED)
find_library(WASIO_URING_LIB uring REQUIRED)
add_library(wasio_uring INTERFACE)
add_library(wasio::uring ALIAS wasio_uring)
target_include_directories(wasio_uring SYSTEM INTERFACE ${WASIO_URING_INCLUDE})
target_link_libraries(wasio_uring INTERFACE ${WASIO_URING_LIB})

# V8 10.2 from Debian's libnode108/libnode-dev. scripts/install-deps.sh unpacks it into
# .deps/libnode where the installed nodejs conflicts with the package; prefer that prefix, since
# /usr/include/node may then hold a different Node's (and V8's) headers.
set(_libnode_prefix ${PROJECT_SOURCE_DIR}/.deps/libnode/usr)
if(EXISTS ${_libnode_prefix}/include/node/v8.h)
  set(WASIO_V8_INCLUDE ${_libnode_prefix}/include/node)
  find_library(WASIO_V8_LIB NAMES node.so.108 libnode.so.108 node PATHS ${_libnode_prefix}/lib/x86_64-linux-gnu NO_DEFAULT_PATH REQUIRED)
else()
  find_path(WASIO_V8_INCLUDE v8.h PATHS /usr/include/node NO_DEFAULT_PATH REQUIRED)
  find_library(WASIO_V8_LIB NAMES libnode.so.108 node REQUIRED)
endif()
file(STRINGS ${WASIO_V8_INCLUDE}/v8-version.h _v8_major REGEX "define V8_MAJOR_VERSION")
if(NOT _v8_major MATCHES "10$")
  message(FATAL_ERROR "wasio needs V8 10.x (Debian libnode108); ${WASIO_V8_INCLUDE} has '${_v8_major}'. Run scripts/install-deps.sh")
endif()
get_filename_component(_v8_libdir ${WASIO_V8_LIB} DIRECTORY)
add_library(wasio_v8 INTERFACE)
add_library(wasio::v8 ALIAS wasio_v8)
target_include_directories(wasio_v8 SYSTEM INTERFACE ${WASIO_V8_INCLUDE})
target_link_libraries(wasio_v8 INTERFACE ${WASIO_V8_LIB})
target_link_options(wasio_v8 INTERFACE "-Wl,-rpath,${_v8_libdir}")

find_path(WASIO_BINARYEN_INCLUDE binaryen-c.h REQUIRED)
find_library(WASIO_BINARYEN_LIB binaryen REQUIRED)
add_library(wasio_binaryen INTERFACE)
add_library(wasio::binaryen ALIAS wasio_binaryen)
target_include_directories(wasio_binaryen SYSTEM INTERFACE ${WASIO_BINARYEN_INCLUDE})
target_link_libraries(wasio_binaryen INTERFACE ${WASIO_BINARYEN_LIB})


