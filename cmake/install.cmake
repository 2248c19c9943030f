# `cmake --install`: the `dimple` command, libdimple (shared and static), include/dimple.h, a
# pkg-config file and a CMake package (find_package(dimple)), and the shipped model the command
# answers with when given no --model. Both package files locate the install from where they are,
# so an install tree may be moved (cmake --install build --prefix anywhere).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS dimple-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS dimple_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${PROJECT_BINARY_DIR}/libdimple.a DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/dimple.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/dimple-shapes DESTINATION ${CMAKE_INSTALL_DATADIR}/dimple/models
        PATTERN plots EXCLUDE)

# What a program linking libdimple.a statically needs besides it (the shared library records its own).
set(DIMPLE_STATIC_LIBS -ldnnl -lpcre2-8 -lutf8proc -ljpeg -lpng16 -lgif -lwebp -lgomp -lstdc++ -lm -lpthread)

file(RELATIVE_PATH PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
list(JOIN DIMPLE_STATIC_LIBS " " PC_LIBS_PRIVATE)
configure_file(${CMAKE_CURRENT_LIST_DIR}/dimple.pc.in ${PROJECT_BINARY_DIR}/dimple.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/dimple.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/dimpleConfig.cmake.in ${PROJECT_BINARY_DIR}/dimpleConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dimple PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dimpleConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dimpleConfig.cmake ${PROJECT_BINARY_DIR}/dimpleConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dimple)
