# The installed package: the headers, the three static libraries (in link order), the CLI, and
# wasioConfig.cmake / wasio.pc describing them. The dependencies are named where they live on
# this system (V8 may live in .deps/libnode, where scripts/install-deps.sh unpacks it): the
# config file is written for them here rather than exported, since CMake refuses to export an
# interface path inside the source tree even when it is the dependency's own home.
set(WASIO_CONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/wasio)
install(TARGETS wasio wasio_wasi wasio_async ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS wasio_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/wasio DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

get_filename_component(WASIO_V8_LIBDIR ${WASIO_V8_LIB} DIRECTORY)
# A sanitized build's libraries need the program that links them sanitized too: the runtimes,
# and the same inline code (Asio allocates coroutine frames differently under ASan, and a frame
# made in one translation unit is freed in another).
set(WASIO_PACKAGE_LINK_OPTIONS "-Wl,-rpath,${WASIO_V8_LIBDIR}")
set(WASIO_PACKAGE_COMPILE_OPTIONS "")
if(WASIO_SANITIZE)
  set(WASIO_PACKAGE_COMPILE_OPTIONS "-fsanitize=address,undefined;-fno-sanitize=vptr")
  string(APPEND WASIO_PACKAGE_LINK_OPTIONS ";${WASIO_PACKAGE_COMPILE_OPTIONS}")
endif()
string(REPLACE ";" " " WASIO_PC_LINK_OPTIONS "${WASIO_PACKAGE_LINK_OPTIONS}")
string(REPLACE ";" " " WASIO_PC_COMPILE_OPTIONS "${WASIO_PACKAGE_COMPILE_OPTIONS}")
include(CMakePackageConfigHelpers)
configure_package_config_file(cmake/wasioConfig.cmake.in ${PROJECT_BINARY_DIR}/wasioConfig.cmake
  INSTALL_DESTINATION ${WASIO_CONFIG_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/wasioConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/wasioConfig.cmake ${PROJECT_BINARY_DIR}/wasioConfigVersion.cmake
  DESTINATION ${WASIO_CONFIG_DIR})

# wasio.pc names its prefix relative to itself, so that the installed tree can move.
file(RELATIVE_PATH WASIO_PC_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" WASIO_PC_PREFIX "${WASIO_PC_PREFIX}")
configure_file(cmake/wasio.pc.in ${PROJECT_BINARY_DIR}/wasio.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/wasio.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
