# Dependencies, all from Debian packages (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(OpenSSL REQUIRED)  # libcrypto's SHA-256 keys the disk cache of rewritten modules
# Boost.Context: fiber mode's native stacks. Through Boost's own config: CMake 3.30 (Debian 13's
# is 3.31) dropped its FindBoost module.
find_package(Boost 1.74 REQUIRED CONFIG COMPONENTS context)

# Asio (standalone, header-only) with its epoll reactor. ASIO_HAS_IO_URING stays off: it would
# change Asio's inline code for every embedder's translation unit too. file_io.cpp drives its own
# ring through liburing instead.
add_library(wasio_asio INTERFACE)
add_library(wasio::asio ALIAS wasio_asio)
target_compile_definitions(wasio_asio INTERFACE ASIO_NO_DEPRECATED)
target_link_libraries(wasio_asio INTERFACE Threads::Threads)

# A plain C library from its Debian -dev package, as the INTERFACE target wasio::NAME; its path
# is the cache variable WASIO_<NAME>_LIB, which the package files name (cmake/package.cmake).
function(wasio_plain_library name header lib)
  string(TOUPPER ${name} up)
  find_path(WASIO_${up}_INCLUDE ${header} REQUIRED)
  find_library(WASIO_${up}_LIB ${lib} REQUIRED)
  add_library(wasio_${name} INTERFACE)
  add_library(wasio::${name} ALIAS wasio_${name})
  target_include_directories(wasio_${name} SYSTEM INTERFACE ${WASIO_${up}_INCLUDE})
  target_link_libraries(wasio_${name} INTERFACE ${WASIO_${up}_LIB})
endfunction()
wasio_plain_library(uring liburing.h uring)
# LZ4 compresses the pages of guests that wait long (engine/hibernation.cpp).
wasio_plain_library(lz4 lz4.h lz4)

# V8 from Debian's libnode-dev: 10.2 (libnode108, Debian 12) or 11.3 (libnode115, Debian 13).
# The code is one for both; WASIO_V8_MAJOR says which it was built against. scripts/install-deps.sh
# unpacks libnode into .deps/libnode where the installed nodejs conflicts with the package; prefer
# that prefix, since /usr/include/node may then hold a different Node's (and V8's) headers.
# WASIO_V8_PREFIX names another prefix holding include/node/v8.h and lib/.../libnode.so.*.
set(_libnode_names node.so.108 libnode.so.108 node.so.115 libnode.so.115 node)
set(_libnode_prefix ${PROJECT_SOURCE_DIR}/.deps/libnode/usr)
if(WASIO_V8_PREFIX)
  set(_libnode_prefix ${WASIO_V8_PREFIX})
endif()
if(EXISTS ${_libnode_prefix}/include/node/v8.h)
  set(WASIO_V8_INCLUDE ${_libnode_prefix}/include/node)
  find_library(WASIO_V8_LIB NAMES ${_libnode_names} PATHS ${_libnode_prefix}/lib/x86_64-linux-gnu ${_libnode_prefix}/lib
               NO_DEFAULT_PATH REQUIRED)
else()
  find_path(WASIO_V8_INCLUDE v8.h PATHS /usr/include/node NO_DEFAULT_PATH REQUIRED)
  find_library(WASIO_V8_LIB NAMES ${_libnode_names} REQUIRED)
endif()
file(STRINGS ${WASIO_V8_INCLUDE}/v8-version.h _v8_major REGEX "define V8_MAJOR_VERSION")
string(REGEX MATCH "[0-9]+$" WASIO_V8_MAJOR "${_v8_major}")
if(NOT WASIO_V8_MAJOR MATCHES "^(10|11)$")
  message(FATAL_ERROR "wasio needs V8 10 or 11 (Debian's libnode108 or libnode115); ${WASIO_V8_INCLUDE} has "
                      "'${_v8_major}'. Run scripts/install-deps.sh")
endif()
message(STATUS "wasio: V8 ${WASIO_V8_MAJOR} from ${WASIO_V8_LIB}")
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
# JSPI (engine/jspi.cpp) needs V8 11 and binaryen's jspi pass (binaryen 112 or later: Debian 13's
# 120; Debian 12's 108 has neither). The C API has no version: the strings feature came with the
# same binaryen generation.
file(READ ${WASIO_BINARYEN_INCLUDE}/binaryen-c.h _binaryen_h)
string(FIND "${_binaryen_h}" "BinaryenFeatureStrings" _binaryen_strings)
set(WASIO_JSPI OFF)
if(NOT _binaryen_strings EQUAL -1)
  target_compile_definitions(wasio_binaryen INTERFACE WASIO_BINARYEN_JSPI=1)
  if(WASIO_V8_MAJOR GREATER_EQUAL 11)
    set(WASIO_JSPI ON)
  endif()
endif()
message(STATUS "wasio: JSPI mode ${WASIO_JSPI}")


