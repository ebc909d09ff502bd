# wasio_add_guests(TARGET SRC_DIR OUT_DIR): every SRC_DIR/*.c (clang-14 or clang-19: Debian 12's
# or 13's, with its wasm32 runtime library; wasm32-wasi, Debian's
# wasi-libc; rebuilt when a SRC_DIR/*.h changes) and SRC_DIR/*.wat (wabt's wat2wasm, for what a
# C compiler never produces) becomes OUT_DIR/<name>.wasm, all built by TARGET. A guest's own extra
# flags, if any, are in WASIO_GUEST_FLAGS_<name>.
find_program(WASIO_WASM_CC NAMES clang-14 clang-19 REQUIRED)
set(WASIO_WASM_FLAGS --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug)
find_program(WASIO_WAT2WASM wat2wasm REQUIRED)

function(wasio_add_guests target src_dir out_dir)
  file(GLOB c_sources CONFIGURE_DEPENDS ${src_dir}/*.c)
  file(GLOB headers CONFIGURE_DEPENDS ${src_dir}/*.h)
  file(GLOB wat_sources CONFIGURE_DEPENDS ${src_dir}/*.wat)
  set(outputs)
  foreach(src ${c_sources} ${wat_sources})
    get_filename_component(name ${src} NAME_WE)
    set(out ${out_dir}/${name}.wasm)
    if(src MATCHES "\\.wat$")
      set(build ${WASIO_WAT2WASM} ${WASIO_GUEST_FLAGS_${name}} ${src} -o ${out})
      set(deps ${src})
    else()
      set(build ${WASIO_WASM_CC} ${WASIO_WASM_FLAGS} ${WASIO_GUEST_FLAGS_${name}} ${src} -o ${out})
      set(deps ${src} ${headers})
    endif()
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND ${build}
      DEPENDS ${deps}
      COMMENT "guest ${name}.wasm"
      VERBATIM)
    list(APPEND outputs ${out})
  endforeach()
  add_custom_target(${target} ALL DEPENDS ${outputs})
endfunction()

# wasio_add_go_guests(TARGET SRC_DIR OUT_DIR): every SRC_DIR/*.go (a main package in one file,
# standard library only) becomes OUT_DIR/go_<name>.wasm (GOOS=wasip1, offline), where a Go of
# 1.21 or later is found: Debian 13's golang-1.24-go. Debian 12's Go 1.19 has no wasip1, so
# there TARGET builds nothing and the tests that run these guests skip.
find_program(WASIO_GO NAMES go PATHS /usr/lib/go-1.24/bin /usr/lib/go/bin)
function(wasio_add_go_guests target src_dir out_dir)
  set(outputs)
  if(WASIO_GO)
    execute_process(COMMAND ${WASIO_GO} env GOVERSION OUTPUT_VARIABLE go_version OUTPUT_STRIP_TRAILING_WHITESPACE
                    ERROR_QUIET)
    if(go_version MATCHES "^go1\\.([0-9]+)" AND CMAKE_MATCH_1 GREATER_EQUAL 21)
      file(GLOB go_sources CONFIGURE_DEPENDS ${src_dir}/*.go)
      foreach(src ${go_sources})
        get_filename_component(name ${src} NAME_WE)
        set(out ${out_dir}/go_${name}.wasm)
        add_custom_command(OUTPUT ${out}
          COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
          COMMAND ${CMAKE_COMMAND} -E env GOOS=wasip1 GOARCH=wasm GOTOOLCHAIN=local GOPROXY=off GOFLAGS=
                  GOCACHE=${PROJECT_BINARY_DIR}/go/cache GOPATH=${PROJECT_BINARY_DIR}/go/path
                  ${WASIO_GO} build -trimpath -o ${out} ${src}
          DEPENDS ${src}
          COMMENT "guest go_${name}.wasm (${go_version})"
          VERBATIM)
        list(APPEND outputs ${out})
      endforeach()
    else()
      message(STATUS "wasio: ${WASIO_GO} is ${go_version}, without wasip1: the Go guests are not built")
    endif()
  endif()
  add_custom_target(${target} ALL DEPENDS ${outputs})
endfunction()
