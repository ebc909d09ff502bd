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
