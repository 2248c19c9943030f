# cmake -DINPUT=file -DOUTPUT=file.cpp -DFUNCTION=name -P embed_file.cmake
# Writes a C++ source defining `std::string_view dimple::server::FUNCTION()` that returns the
# input file's bytes (as an array of byte values, so any content survives).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
math(EXPR size "${hex_len} / 2")
file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by embed_file.cmake: do not edit.\n"
  "#include <string_view>\n"
  "namespace dimple::server {\n"
  "static const unsigned char kBytes[${size} + 1] = {${bytes}};\n"
  "std::string_view ${FUNCTION}() { return {reinterpret_cast<const char*>(kBytes), ${size}}; }\n"
  "}  // namespace dimple::server\n")
